// What `run --trace` says to a learner (issue 19): an optional step that was skipped says why it was
// optional; each namespace links its own man page (pid_namespaces(7)…); the spawn names the syscall the
// code used (clone3 or clone) and how the process entered its cgroup. Read through --log-format json,
// whose lines carry the same title, why and man page as the text.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, makeBundle, runTsrun, type BundleOptions } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const hasCgroup2 = cgroup2Mount() !== undefined;

interface TraceLine { level: string; who: string; step?: number; title: string; why?: string; result: string; syscall?: string; man?: string; group?: string }

async function traceOf(mutate?: BundleOptions['mutate'], env: Record<string, string> = {}): Promise<TraceLine[]> {
  const b = makeBundle({ mutate: (s, x) => { s.process!.args = ['true']; mutate?.(s, x); } });
  const r = await runTsrun(['--log-format', 'json', 'run', '--trace', '--bundle', b.dir, `trace-${process.pid}-${Math.random().toString(36).slice(2, 7)}`], { env });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as TraceLine).filter((l) => l.level === 'trace');
}

describe.skipIf(skip !== undefined)(`--trace words${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('a skipped optional step says it was optional, why, and which field lists such paths', async () => {
    const lines = await traceOf((s) => { s.linux!.maskedPaths = ['/proc/no-such-file-for-the-trace']; });
    const skipped = lines.find((l) => l.result === 'skipped (ENOENT)' && l.title === 'mask /proc/no-such-file-for-the-trace');
    expect(skipped?.why).toBe('optional: /proc/no-such-file-for-the-trace does not exist in this container (this kernel or image has no such file), so there is nothing to hide; linux.maskedPaths names paths to hide where they exist');
  });

  it('each namespace links its own man page in section 7', async () => {
    const lines = await traceOf((s) => { s.linux!.namespaces!.push({ type: 'cgroup' }); });
    for (const t of ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']) {
      const l = lines.find((x) => x.title === `new ${t} namespace` || x.title.startsWith(`new ${t} namespace (made by step `));
      expect(l?.syscall, t).toBe(`${t}_namespaces`);
      expect(l?.man, t).toBe(`https://man7.org/linux/man-pages/man7/${t}_namespaces.7.html`);
    }
    // Not the clone's: the container process unshares it once in its cgroup.
    expect(lines.find((x) => x.title.startsWith('new cgroup namespace'))?.title).toMatch(/^new cgroup namespace \(made by step \d+: unshare\)$/);
  });

  it.skipIf(!hasCgroup2)('born in its cgroup: the spawn line says clone3 and CLONE_INTO_CGROUP, and links clone3(2)', async () => {
    const spawn = (await traceOf()).find((l) => l.who === 'parent' && l.group === 'namespaces')!;
    expect(spawn.syscall).toBe('clone3');
    expect(spawn.man).toBe('https://man7.org/linux/man-pages/man2/clone3.2.html');
    expect(spawn.title).toMatch(/^clone3\(CLONE_VM\|CLONE_VFORK\|CLONE_INTO_CGROUP\|CLONE_NEWPID\|CLONE_NEWNET\|CLONE_NEWIPC\|CLONE_NEWUTS\|CLONE_NEWNS\) → pid \d+, which execs tsrun-init$/);
    expect(spawn.why).toMatch(/born in its cgroup \(CLONE_INTO_CGROUP\)/);
  });

  it.skipIf(!hasCgroup2)('placed through cgroup.procs (no clone3): the spawn line says clone, and a line says which pid was written to cgroup.procs', async () => {
    const lines = await traceOf(undefined, { TSRUN_NO_CLONE3: '1' });
    const spawn = lines.find((l) => l.who === 'parent' && l.group === 'namespaces')!;
    expect(spawn.syscall).toBe('clone');
    expect(spawn.title).toMatch(/^clone\(CLONE_VM\|CLONE_VFORK\|CLONE_NEWPID\|[A-Z_|]+\) → pid \d+, which execs tsrun-init$/);
    expect(spawn.title).not.toMatch(/CLONE_INTO_CGROUP/);
    const placed = lines.find((l) => /^write \d+ to \S+\/cgroup\.procs$/.test(l.title));
    expect(placed, JSON.stringify(lines.filter((l) => l.who === 'parent'))).toBeDefined();
    expect(placed!.why).toMatch(/before its first step/);
  });

  it.skipIf(!hasCgroup2)('two stages (a user namespace): tsrun-init is cloned, then clones the container process with clone3 into its cgroup', async () => {
    const lines = await traceOf((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    });
    const [first, second] = lines.filter((l) => l.who === 'parent' && l.group === 'namespaces' && /^(clone|tsrun-init)/.test(l.title));
    expect(first!.title).toMatch(/^clone\(CLONE_VM\|CLONE_VFORK\) → pid \d+, which execs tsrun-init$/);
    expect(first!.syscall).toBe('clone');
    expect(second!.title).toMatch(/^tsrun-init clones the container process: clone3\(CLONE_PARENT\|CLONE_INTO_CGROUP\|CLONE_NEWUSER\|CLONE_NEWPID\|[A-Z_|]+\) → pid \d+$/);
    expect(second!.syscall).toBe('clone3');
  });
});
