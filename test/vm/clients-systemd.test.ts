// podman and containerd with their systemd cgroup manager and tsrun as the runtime, under a real
// systemd (the VM lane booted with systemd as PID 1: `make test-vm-systemd`). These are the clients'
// defaults on an ordinary systemd host: conmon passes --systemd-cgroup and cgroupsPath
// "machine.slice:libpod:<id>"; containerd's runc shim with SystemdCgroup passes --systemd-cgroup and
// "<slice>:<prefix>:<id>". Every container must be a scope with Delegate=yes while it runs, and be gone
// after. Elsewhere these are skipped.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE, IMAGE, TSRUN_BIN, containerdMissing, startContainerd, type Containerd } from '../integration/clients/containerd-support.js';
import { settled } from '../helpers/bundle.js';
import { V2, run, systemdSkipReason, unitProperties } from './systemd-support.js';

const reason = systemdSkipReason();
const podmanMissing = (): string | undefined => (run('sh', ['-c', 'command -v podman && command -v conmon']).status === 0 ? undefined : 'podman or conmon is not installed');

/**
 * A podman of its own (storage, run and tmp dirs, network configs under one temporary dir), with the
 * systemd cgroup manager, file events and runtime(dir) as its OCI runtime. load() writes its
 * containers.conf and loads the image; remove() removes its containers, images and dir.
 */
function podmanSandbox(prefix: string, runtime: (dir: string) => string): { dir: string; podman: (args: string[]) => ReturnType<typeof run>; load(): void; remove(): void } {
  const dir = reason ? '' : mkdtempSync(join(tmpdir(), prefix));
  const podman = (args: string[]): ReturnType<typeof run> => run('podman', [
    '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--network-config-dir', join(dir, 'networks'),
    '--cgroup-manager', 'systemd', '--events-backend', 'file', '--runtime', runtime(dir), ...args,
  ], { env: { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') }, timeout: 170_000 });
  return {
    dir,
    podman,
    load() {
      writeFileSync(join(dir, 'containers.conf'), '[engine]\nevents_logger = "file"\n');
      const loaded = podman(['load', '-q', '-i', ARCHIVE]);
      expect(loaded.status, loaded.stderr).toBe(0);
    },
    remove() {
      if (!dir) return;
      podman(['rm', '-af', '-t', '0']);
      podman(['rmi', '-af']);
      run('umount', ['-R', join(dir, 'storage', 'overlay')]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe.skipIf(reason !== null || podmanMissing() !== undefined)(`podman --cgroup-manager systemd --runtime tsrun${reason ? ` — skipped: ${reason}` : ''}`, () => {
  const sandbox = podmanSandbox('tsrun-vm-podman-', (dir) => join(dir, 'tsrun'));
  const { dir, podman } = sandbox;
  const calls = join(dir, 'calls.log');

  beforeAll(() => {
    // A wrapper that logs the runtime's argv, then execs tsrun; podman's other defaults stay (pids_limit 2048…).
    writeFileSync(join(dir, 'tsrun'), `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${TSRUN_BIN}' "$@"\n`);
    chmodSync(join(dir, 'tsrun'), 0o755);
    writeFileSync(calls, '');
    sandbox.load();
  });
  afterAll(() => sandbox.remove());

  it('run --rm: conmon passes --systemd-cgroup; the container is in libpod-<id>.scope (its cgroup namespace root), pids limit from podman\'s default', () => {
    const r = podman(['run', '--rm', '--network', 'none', 'busybox-layers', 'tail -1 /proc/self/cgroup; cat /sys/fs/cgroup/pids.max']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0::/\n2048\n');
    expect(r.status).toBe(0);
    const log = readFileSync(calls, 'utf8');
    expect(log).toMatch(/^--systemd-cgroup .*create --bundle \S+ --pid-file \S+ [0-9a-f]{64}$/m);
    const id = /create .* ([0-9a-f]{64})$/m.exec(log)![1]!;
    expect(unitProperties(`libpod-${id}.scope`, 'LoadState').LoadState).toBe('not-found');
    expect(existsSync(join(V2, 'machine.slice', `libpod-${id}.scope`))).toBe(false);
  });

  it('run -d: libpod-<id>.scope in machine.slice with Delegate=yes, the init in it; stop and rm remove it', () => {
    const started = podman(['run', '-d', '--network', 'none', 'busybox-layers', 'sleep 1000']);
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    const id = started.stdout.trim();
    const unit = `libpod-${id}.scope`;
    expect(unitProperties(unit, 'ActiveState', 'Slice', 'Delegate', 'TasksMax')).toEqual({ ActiveState: 'active', Slice: 'machine.slice', Delegate: 'yes', TasksMax: '2048' });
    const pid = Number(podman(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim());
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe(`0::/machine.slice/${unit}\n`);
    expect(podman(['exec', id, 'echo', 'from-exec']).stdout).toBe('from-exec\n');
    expect(podman(['rm', '-f', '-t', '0', id]).status).toBe(0);
    expect(unitProperties(unit, 'LoadState').LoadState).toBe('not-found');
    expect(existsSync(join(V2, 'machine.slice', unit))).toBe(false);
  });
});

describe.skipIf(reason !== null || podmanMissing() !== undefined)(`podman update with the systemd cgroup manager${reason ? ` — skipped: ${reason}` : ''}`, () => {
  const sandbox = podmanSandbox('tsrun-vm-podman-update-', () => TSRUN_BIN);
  const { podman } = sandbox;

  beforeAll(() => sandbox.load());
  afterAll(() => sandbox.remove());

  it('podman update --memory --cpu-shares: the scope\'s cgroup files and its unit properties change, and a daemon-reload keeps them', () => {
    const started = podman(['run', '-d', '--network', 'none', 'busybox-layers', 'sleep 1000']);
    expect(started.status, started.stderr).toBe(0);
    const id = started.stdout.trim();
    const unit = `libpod-${id}.scope`;
    const cgroup = join(V2, 'machine.slice', unit);
    // (podman 4.3's update has no --pids-limit.) cpu shares 512 → cpu.weight 20, as at create.
    const r = podman(['update', '--memory', '64m', '--cpu-shares', '512', id]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const files = (): string[] => ['memory.max', 'cpu.weight'].map((f) => readFileSync(join(cgroup, f), 'utf8').trim());
    expect(files()).toEqual([`${64 * 2 ** 20}`, '20']);
    expect(unitProperties(unit, 'MemoryMax', 'CPUWeight')).toEqual({ MemoryMax: `${64 * 2 ** 20}`, CPUWeight: '20' });
    // systemd writes a unit's properties back to its cgroup on a reload: the new limits must be its.
    expect(run('systemctl', ['daemon-reload']).status).toBe(0);
    expect(files()).toEqual([`${64 * 2 ** 20}`, '20']);
    expect(podman(['rm', '-f', '-t', '0', id]).status).toBe(0);
    expect(unitProperties(unit, 'LoadState').LoadState).toBe('not-found');
  });
});

const ctrSkip = reason ?? containerdMissing();

describe.skipIf(ctrSkip !== undefined)(`containerd, runc shim with SystemdCgroup, BinaryName tsrun${ctrSkip ? ` — skipped: ${ctrSkip}` : ''}`, () => {
  let c: Containerd;
  const NS = 'tsrun-vm';
  const opts = (id: string): string[] => ['--runc-binary', TSRUN_BIN, '--runc-systemd-cgroup', '--cgroup', `system.slice:ctr:${id}`, '--runc-root', c.runcRoot, '--fifo-dir', join(c.dir, 'fifo')];

  beforeAll(async () => {
    c = await startContainerd({ systemdCgroup: true, namespace: NS });
    const imported = await c.ctr(['images', 'import', ARCHIVE], { timeout: 170_000 });
    expect(imported.exitCode, imported.stderr).toBe(0);
  });
  afterAll(async () => {
    if (!c) return;
    await c.stop();
    // stop() SIGKILLs a shim still there; a killed process stays in /proc a moment: poll.
    expect(await settled(c.shims, (s) => s.length === 0)).toEqual([]);
  });

  it('the documented config with SystemdCgroup = true loads in the cri plugin', async () => {
    expect((await c.ctr(['plugins', 'ls'])).stdout).toMatch(/^io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok\s*$/m);
    expect(c.log()).toMatch(/tsrun:\{Type:io\.containerd\.runc\.v2 [^}]*Options:map\[BinaryName:\S+ SystemdCgroup:true\]/);
  });

  it('ctr run --rm: the container is in ctr-<id>.scope; its status comes back; the scope is gone after', async () => {
    const r = await c.ctr(['run', '--rm', ...opts('sd-rm'), IMAGE, 'sd-rm', 'sh', '-c', 'tail -1 /proc/self/cgroup; exit 5'], { timeout: 170_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0::/system.slice/ctr-sd-rm.scope');
    expect(r.exitCode).toBe(5);
    expect(unitProperties('ctr-sd-rm.scope', 'LoadState').LoadState).toBe('not-found');
  });

  it('ctr run -d: a Delegate=yes scope while it runs; task kill, task delete, container delete remove it', async () => {
    const r = await c.ctr(['run', '-d', ...opts('sd-d'), IMAGE, 'sd-d', 'sleep', '1000'], { timeout: 170_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(unitProperties('ctr-sd-d.scope', 'ActiveState', 'Delegate', 'Slice')).toEqual({ ActiveState: 'active', Delegate: 'yes', Slice: 'system.slice' });
    expect((await c.ctr(['task', 'kill', '-s', 'SIGKILL', 'sd-d'])).exitCode).toBe(0);
    const end = Date.now() + 60_000;
    while (!/^sd-d\s+\d+\s+STOPPED$/m.test((await c.ctr(['task', 'ls'])).stdout) && Date.now() < end) await new Promise((res) => setTimeout(res, 200));
    expect((await c.ctr(['task', 'delete', 'sd-d'])).exitCode).toBe(0);
    expect((await c.ctr(['containers', 'delete', 'sd-d'])).exitCode).toBe(0);
    expect(unitProperties('ctr-sd-d.scope', 'LoadState').LoadState).toBe('not-found');
    expect(existsSync(join(V2, 'system.slice', 'ctr-sd-d.scope'))).toBe(false);
    expect(existsSync(join(c.runcRoot, NS, 'sd-d'))).toBe(false);
  });
});
