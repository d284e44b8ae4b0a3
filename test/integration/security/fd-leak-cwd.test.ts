// CVE-2024-21626 class: a directory of the host reached through a leaked fd or a magic link as the
// container's working directory. `process.cwd` (or `exec --cwd`) = /proc/self/fd/N names whatever
// fd N is at the chdir: a directory of the host that tsrun (or tsrun's caller) had open, and
// `../../..` from there walks the host's tree. Every fd but 0-2, the sync socket and those the plan
// names must be closed before the first path is resolved, and a cwd outside the container's root
// (the raw getcwd says "(unreachable)") must be refused, naming process.cwd.
import { execFileSync } from 'node:child_process';
import { execa } from 'execa';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, makeBundle, REPO, runBundle, TSRUN, uniqueMarker, type TestBundle } from '../../helpers/bundle.js';
import { cleanupLifecycle, defaultCgroupDir, makeRoot, runDetachedIn, tsrun, uniqueId, waitForStatus } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
/** fd numbers tried as /proc/self/fd/N (tsrun's own directory fds were 18-20 when this was found). */
const FDS = Array.from({ length: 38 }, (_, i) => i + 3);
const HOST_ID = 100000;

describe.skipIf(skip !== undefined)(`security: no host directory as the working directory (CVE-2024-21626 class)${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  // A host directory the container must never read from, with a secret only the test knows.
  let secretDir = '';
  let secret = '';
  beforeAll(() => {
    secretDir = mkdtempSync(join(tmpdir(), 'tsrun-fd-secret-'));
    chmodSync(secretDir, 0o755);
    secret = uniqueMarker('secret');
    writeFileSync(join(secretDir, 'secret'), `${secret}\n`, { mode: 0o644 });
  });
  afterAll(() => { if (secretDir) rmSync(secretDir, { recursive: true, force: true }); });

  /** From any directory of the host, enough `..` reach / and then the secret. */
  const climb = (): string => `${'../'.repeat(16)}${secretDir.slice(1)}/secret`;
  /** Reads the secret relative to the cwd, both directly (a cwd that is the secret dir) and by climbing. */
  const reader = (): string => `cat secret ${climb()} 2>/dev/null; true`;

  const userNs = (s: Spec): void => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
  };

  function bundleWith(mutate: (s: Spec, marker: string) => void, chown = false): TestBundle {
    return makeBundle({
      ...(chown ? { prepareRootfs: (rootfs: string) => { execFileSync('chown', ['-R', '-h', `${HOST_ID}:${HOST_ID}`, rootfs]); } } : {}),
      mutate: (s, b) => { s.root!.readonly = false; mutate(s, b.marker); },
    });
  }

  /** A one-line error naming process.cwd, or a run that did not see the secret. */
  function expectNoLeak(r: { stdout: string; stderr: string; exitCode: number | undefined }, what: string): void {
    expect(r.stdout, what).not.toContain(secret);
    if (r.exitCode !== 0) expect(r.stderr.trim().split('\n'), `${what}: ${r.stderr}`).toHaveLength(1);
  }

  it('`tsrun exec --cwd /proc/self/fd/N` never reaches the host, for any N', async () => {
    const root = makeRoot();
    const id = uniqueId('fd-exec');
    const bundle = bundleWith((s, marker) => { s.process!.args = ['sh', '-c', 'sleep 1000', marker]; });
    const started = await runDetachedIn(root, bundle, id);
    expect(started.exitCode, started.stderr()).toBe(0);
    for (const fd of FDS) {
      const r = await tsrun(root, ['exec', '--cwd', `/proc/self/fd/${fd}`, id, 'sh', '-c', reader()]);
      expectNoLeak(r, `exec --cwd /proc/self/fd/${fd}`);
    }
  });

  it('process.cwd = /proc/self/fd/N in a container with a user namespace never reaches the host, for any N', async () => {
    for (const fd of FDS) {
      const bundle = bundleWith((s) => {
        userNs(s);
        s.process!.args = ['sh', '-c', reader()];
        s.process!.cwd = `/proc/self/fd/${fd}`;
      }, true);
      const r = await runBundle(bundle);
      expectNoLeak(r, `process.cwd /proc/self/fd/${fd}`);
      bundle.remove();
    }
  });

  describe('a directory fd inherited from tsrun\'s caller (fd 200 on a host directory) is not the container\'s', () => {
    /** `bash -c 'exec 200<DIR; exec node tsrun …'`: tsrun starts with fd 200 open on the secret dir. */
    const withFd200 = (args: string[], stdio: 'pipe' | { out: string; err: string } = 'pipe') => execa('bash', [
      '-c', `exec 200<"$0"; exec node "$@"${stdio === 'pipe' ? '' : ` >"${stdio.out}" 2>"${stdio.err}"`}`,
      secretDir, TSRUN, ...args,
    ], { reject: false, stdin: 'ignore', cwd: REPO, timeout: 20_000, stripFinalNewline: false });

    const cwd200 = (s: Spec): void => {
      s.process!.args = ['sh', '-c', reader()];
      s.process!.cwd = '/proc/self/fd/200';
    };

    it('run', async () => {
      const bundle = bundleWith(cwd200);
      const r = await withFd200(['run', '--bundle', bundle.dir]);
      expectNoLeak({ stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode }, 'run');
      expect(r.stderr).toMatch(/process\.cwd/);
    });

    it('run, with a user namespace', async () => {
      const bundle = bundleWith((s) => { cwd200(s); userNs(s); }, true);
      const r = await withFd200(['run', '--bundle', bundle.dir]);
      expectNoLeak({ stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode }, 'run (user ns)');
      expect(r.stderr).toMatch(/process\.cwd/);
    });

    it('create + start', async () => {
      const root = makeRoot();
      const id = uniqueId('fd-create');
      const bundle = bundleWith(cwd200);
      const out = join(bundle.dir, 'create.out');
      const err = join(bundle.dir, 'create.err');
      const created = await withFd200(['--root', root, 'create', '--bundle', bundle.dir, id], { out, err });
      if (created.exitCode === 0) {
        await tsrun(root, ['start', id]);
        await waitForStatus(root, id, 'stopped').catch(() => undefined);
      }
      expectNoLeak({ stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8'), exitCode: created.exitCode }, 'create');
      expect(readFileSync(err, 'utf8')).toMatch(/process\.cwd/);
    });

    it('exec --cwd /proc/self/fd/200', async () => {
      const root = makeRoot();
      const id = uniqueId('fd-exec200');
      const bundle = bundleWith((s, marker) => { s.process!.args = ['sh', '-c', 'sleep 1000', marker]; });
      const started = await runDetachedIn(root, bundle, id);
      expect(started.exitCode, started.stderr()).toBe(0);
      const r = await withFd200(['--root', root, 'exec', '--cwd', '/proc/self/fd/200', id, 'sh', '-c', reader()]);
      expectNoLeak({ stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode }, 'exec');
      expect(r.stderr).toMatch(/process\.cwd/);
    });
  });

  it('a cwd that resolves outside the container\'s root (a magic link of /proc) is refused, naming process.cwd; nothing is left', async () => {
    // No PID namespace and CAP_SYS_PTRACE: /proc/<a host pid>/root is then the host's root.
    const id = uniqueId('fd-getcwd');
    const bundle = bundleWith((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      const caps = s.process!.capabilities!;
      for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SYS_PTRACE'];
      s.process!.args = ['sh', '-c', reader()];
      s.process!.cwd = `/proc/${process.pid}/root${secretDir}`;
    });
    const r = await runBundle(bundle, [id]);
    expect(r.stdout).not.toContain(secret);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: .*process\.cwd.*\n$/);
    expect(r.stderr).toMatch(/not inside the container's root/);
    expect(existsSync(defaultCgroupDir(id))).toBe(false);
    // The state dir went with the failed run (the hooks check processes and mounts).
    const root = '/run/tsrun';
    expect(existsSync(join(root, id))).toBe(false);
  });
});
