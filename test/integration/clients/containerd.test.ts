// containerd (Debian's 1.6) with tsrun as its runc: a private containerd whose config is
// docs/kubernetes.md's block (the cri plugin's runtimes.tsrun with BinaryName and SystemdCgroup),
// started and stopped by the test; `ctr run --runc-binary tsrun` drives the runc shim
// (io.containerd.runc.v2) as the cri plugin would, side by side with runc. Here the shim uses
// cgroupfs (this host has no systemd as PID 1); test/vm/clients-systemd.test.ts runs it with
// SystemdCgroup under systemd. What a Kubernetes node adds (CRI, pods) is not tested: see the doc.
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroup2Mount } from '../../helpers/lifecycle.js';
import { mountPointsUnder } from '../../helpers/bundle.js';
import { ARCHIVE, IMAGE, TSRUN_BIN, containerdMissing, startContainerd, type Containerd } from './containerd-support.js';

const skip = containerdMissing();
const NS = 'tsrun-it';

describe.skipIf(skip !== undefined)(`containerd with runtimes.tsrun (runc shim, cgroupfs)${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let c: Containerd;
  // ctr's cgroupsPath is /<namespace>/<id>: tsrun, like runc, leaves the parent of an absolute path.
  const parent = join(cgroup2Mount() ?? '/nonexistent', NS);
  const parentExisted = existsSync(parent);
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
    expect(c.shims()).toEqual([]);
    if (!parentExisted) {
      try { rmdirSync(parent); } catch { /* absent, or busy with a container of another test */ }
    }
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
    expect(c.shims()).toEqual([]);
    expect(readdirSync(join(c.runcRoot, NS))).toEqual([]);
  }, 120_000);
});
