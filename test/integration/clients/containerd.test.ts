// containerd (Debian's 1.6) with tsrun as its runc: a private containerd whose config is
// docs/kubernetes.md's block (the cri plugin's runtimes.tsrun with BinaryName and SystemdCgroup),
// started and stopped by the test; `ctr run --runc-binary tsrun` drives the runc shim
// (io.containerd.runc.v2) as the cri plugin would, side by side with runc. Here the shim uses
// cgroupfs (this host has no systemd as PID 1); test/vm/clients-systemd.test.ts runs it with
// SystemdCgroup under systemd. What a Kubernetes node adds (CRI, pods) is not tested: see the doc.
// Issue 16's cases, side by side with runc: --null-io (stdio that is /dev/null opened read-only),
// task kill of an exited task, and a created task deleted without --force.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroup2Mount } from '../../helpers/lifecycle.js';
import { mountPointsUnder, settled } from '../../helpers/bundle.js';
import { ARCHIVE, IMAGE, TSRUN_BIN, containerdMissing, startContainerd, type Containerd } from './containerd-support.js';

const skip = containerdMissing();
const NS = 'tsrun-it';

describe.skipIf(skip !== undefined)(`containerd with runtimes.tsrun (runc shim, cgroupfs)${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let c: Containerd;
  // ctr's cgroupsPath is /<namespace>/<id>: tsrun, like runc, leaves the parent of an absolute path.
  const parent = join(cgroup2Mount() ?? '/nonexistent', NS);
  const parentExisted = existsSync(parent);
  // The comparison with runc itself: on this hybrid host runc makes the same parent in every cgroup
  // v1 hierarchy (and, like tsrun, leaves it). The test removes what its runs made there, empty
  // directories only, so that the host's v1 hierarchies are as they were.
  const v1Parents = (): string[] => {
    try {
      return readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h, NS)).filter((d) => !d.startsWith(join('/sys/fs/cgroup', 'unified')) && existsSync(d));
    } catch {
      return [];
    }
  };
  const v1Before = new Set(v1Parents());
  /** ctr run's options for tsrun: the shim's BinaryName, its state under the temp dir; no default cpu shares (this hybrid host has no v2 cpu controller). */
  const tsrunRun = (): string[] => ['--runc-binary', TSRUN_BIN, '--runc-root', c.runcRoot, '--fifo-dir', join(c.dir, 'fifo'), '--cpu-shares', '0'];

  beforeAll(async () => {
    c = await startContainerd({ systemdCgroup: false, namespace: NS });
    const imported = await c.ctr(['images', 'import', ARCHIVE]);
    expect(imported.exitCode, imported.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    if (!c) return;
    await c.stop();
    // stop() SIGKILLs a shim still there; a killed process stays in /proc a moment: poll.
    expect(await settled(c.shims, (s) => s.length === 0)).toEqual([]);
    if (!parentExisted) {
      try { rmdirSync(parent); } catch { /* absent, or busy with a container of another test */ }
    }
    for (const d of v1Parents().filter((x) => !v1Before.has(x))) {
      try { rmdirSync(d); } catch { /* not empty: not only ours */ }
    }
    expect(v1Parents().filter((x) => !v1Before.has(x))).toEqual([]);
  }, 180_000);

  it('the documented config loads: the cri plugin is ok and has the tsrun runtime with its options', async () => {
    const plugins = await c.ctr(['plugins', 'ls']);
    expect(plugins.stdout).toMatch(/^io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok\s*$/m);
    expect(c.log()).toContain(`tsrun:{Type:io.containerd.runc.v2 `);
    expect(c.log()).toMatch(new RegExp(`tsrun:\\{Type:io\\.containerd\\.runc\\.v2 [^}]*Options:map\\[BinaryName:${TSRUN_BIN.replace(/[/.]/g, '\\$&')} SystemdCgroup:false\\]`));
  });

  it('ctr run --rm: output and exit status come through the shim, as with runc', async () => {
    const viaTsrun = await c.ctr(['run', '--rm', ...tsrunRun(), IMAGE, 'ctr-rm', 'sh', '-c', 'echo hello; tail -1 /proc/self/cgroup; exit 3']);
    expect(viaTsrun.stderr).toBe('');
    expect(viaTsrun.stdout).toBe(`hello\n0::/${NS}/ctr-rm`); // (execa drops the last newline)
    expect(viaTsrun.exitCode).toBe(3);
    const viaRunc = await c.ctr(['run', '--rm', '--runc-root', join(c.dir, 'runc-itself'), '--fifo-dir', join(c.dir, 'fifo'), '--cpu-shares', '0', IMAGE, 'ctr-rm-runc', 'sh', '-c', 'echo hello; exit 3']);
    expect(viaRunc.stdout).toBe('hello');
    expect(viaRunc.exitCode).toBe(3);
  }, 120_000);

  it('ctr run -d, task exec, task kill, task delete, container delete: tsrun\'s state follows, nothing is left', async () => {
    const run = await c.ctr(['run', '-d', ...tsrunRun(), IMAGE, 'ctr-d', 'sleep', '1000']);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect((await c.ctr(['task', 'ls'])).stdout).toMatch(/^ctr-d\s+\d+\s+RUNNING$/m);
    // The shim runs tsrun with --root <runc root>/<namespace>: the container is tsrun's.
    const state = JSON.parse(readFileSync(join(c.runcRoot, NS, 'ctr-d', 'state.json'), 'utf8')) as { cgroupDir?: string };
    expect(state.cgroupDir).toBe(join(cgroup2Mount()!, NS, 'ctr-d'));
    const exec = await c.ctr(['task', 'exec', '--exec-id', 'e1', 'ctr-d', 'sh', '-c', 'echo from-exec; exit 4']);
    expect(exec.stdout).toBe('from-exec');
    expect(exec.exitCode).toBe(4);
    expect((await c.ctr(['task', 'kill', '-s', 'SIGKILL', 'ctr-d'])).exitCode).toBe(0);
    const end = Date.now() + 30_000;
    while (!/^ctr-d\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect((await c.ctr(['task', 'delete', 'ctr-d'])).exitCode).toBe(0);
    expect((await c.ctr(['containers', 'delete', 'ctr-d'])).exitCode).toBe(0);
    expect(existsSync(join(c.runcRoot, NS, 'ctr-d'))).toBe(false);
    expect(existsSync(state.cgroupDir!)).toBe(false);
    expect(mountPointsUnder(c.dir)).toEqual([]);
    // The shim exits on its own after the delete, a moment later: poll (a single look could catch it still exiting).
    expect(await settled(c.shims, (s) => s.length === 0)).toEqual([]);
    expect(readdirSync(join(c.runcRoot, NS))).toEqual([]);
  }, 120_000);
  /** ctr run's options for runtime rt (tsrun, or runc with a state root of its own), as tsrunRun. */
  const runtimeRun = (rt: 'tsrun' | 'runc', binary?: string): string[] => rt === 'tsrun'
    ? ['--runc-binary', binary ?? TSRUN_BIN, '--runc-root', c.runcRoot, '--fifo-dir', join(c.dir, 'fifo'), '--cpu-shares', '0']
    : ['--runc-binary', binary ?? 'runc', '--runc-root', join(c.dir, 'runc-itself'), '--fifo-dir', join(c.dir, 'fifo'), '--cpu-shares', '0'];
  const RUNTIMES = spawnSync('runc', ['--version']).status === 0 ? ['tsrun', 'runc'] as const : ['tsrun'] as const;
  const waitStopped = async (id: string): Promise<void> => {
    const end = Date.now() + 30_000;
    while (!new RegExp(`^${id}\\s+\\d+\\s+STOPPED$`, 'm').test((await c.ctr(['task', 'ls'])).stdout) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  };

  it.each(RUNTIMES)('%s: ctr run --null-io: the container\'s writes to stdout and stderr (/dev/null) succeed', async (rt) => {
    const r = await c.ctr(['run', '--rm', '--null-io', ...runtimeRun(rt), IMAGE, `ctr-null-${rt}`, 'sh', '-c', 'echo out && echo err >&2']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('');
    expect(r.exitCode).toBe(0);
  }, 120_000);

  it('ctr task kill of a task that has exited: the same answer as with runc', async () => {
    const seen: Record<string, { exitCode: number | undefined; stderr: string }> = {};
    for (const rt of RUNTIMES) {
      const id = `ctr-exited-${rt}`;
      expect((await c.ctr(['run', '-d', ...runtimeRun(rt), IMAGE, id, 'true'])).exitCode).toBe(0);
      await waitStopped(id);
      const k = await c.ctr(['task', 'kill', id]);
      seen[rt] = { exitCode: k.exitCode, stderr: k.stderr.replaceAll(id, 'ID').replace(/time="[^"]*" /g, '') };
      expect((await c.ctr(['task', 'delete', id])).exitCode).toBe(0);
      expect((await c.ctr(['containers', 'delete', id])).exitCode).toBe(0);
    }
    expect(seen.tsrun!.stderr).not.toMatch(/unknown error/);
    if (seen.runc) expect(seen.tsrun).toEqual(seen.runc);
  }, 120_000);

  it.each(RUNTIMES)('%s: a task created but never started (its start fails) is removed by ctr task delete -f; nothing is left', async (rt) => {
    // The runtime, except that `start` fails: containerd then holds a created task. ctr refuses a plain
    // delete of it ("must be stopped"); -f has the shim kill the created container, then delete it
    // (the runtime calls are logged).
    const wrapper = join(c.dir, `${rt}-nostart`);
    const calls = join(c.dir, `${rt}-nostart.log`);
    writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${calls}'\nfor a in "$@"; do [ "$a" = start ] && { echo "start refused by the test" >&2; exit 1; }; done\nexec '${rt === 'tsrun' ? TSRUN_BIN : 'runc'}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    const id = `ctr-created-${rt}`;
    const run = await c.ctr(['run', '-d', ...runtimeRun(rt, wrapper), IMAGE, id, 'sleep', '1000']);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr).toMatch(/start refused by the test/);
    expect((await c.ctr(['task', 'ls'])).stdout).toMatch(new RegExp(`^${id}\\s+\\d+\\s+CREATED$`, 'm'));
    const pid = Number(new RegExp(`^${id}\\s+(\\d+)`, 'm').exec((await c.ctr(['task', 'ls'])).stdout)![1]);
    writeFileSync(calls, '');
    const del = await c.ctr(['task', 'delete', '-f', id]);
    expect(del.stderr).toMatch(new RegExp(`^time="[^"]+" level=warning msg="task ${id} exit with non-zero exit code 137"\\n?$`));
    expect(del.exitCode).toBe(0);
    expect((await c.ctr(['containers', 'delete', id])).exitCode).toBe(0);
    expect((await c.ctr(['task', 'ls'])).stdout).not.toContain(id);
    // What the shim asks of either runtime (global flags left out): kill --all, a delete without
    // --force of the container it killed, then its own forced clean-up.
    expect(readFileSync(calls, 'utf8').split('\n').filter(Boolean).map((l) => l.slice(l.search(/(^| )(kill|delete) /)).trim())).toEqual([`kill --all ${id} 9`, `delete ${id}`, `delete --force ${id}`]);
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
    if (rt === 'tsrun') {
      expect(existsSync(join(c.runcRoot, NS, id))).toBe(false);
      expect(existsSync(join(cgroup2Mount()!, NS, id))).toBe(false);
    }
    // The shim exits on its own after the delete, a moment later: poll (a single look could catch it still exiting).
    expect(await settled(c.shims, (s) => s.length === 0)).toEqual([]);
  }, 120_000);
});
