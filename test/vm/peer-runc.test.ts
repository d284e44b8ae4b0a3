// Reference for the container tests to come: a peer runtime (runc, from Debian) runs a real container in
// the VM lane with cgroup v2 limits. Proves pivot_root, namespaces and v2 cgroup placement work in the guest,
// and shows what tsrun must match (exit 137 on an OOM kill, the cgroup removed afterwards).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOTFS = resolve('rootfs-samples/build/busybox/rootfs');

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  if (!/ \/sys\/fs\/cgroup [^\n]* - cgroup2 /.test(mountinfo)) {
    return '/sys/fs/cgroup is not cgroup2 (hybrid or v1 host): run `make test-vm`';
  }
  if (spawnSync('runc', ['--version']).status !== 0) return 'runc not installed (make deb-deps)';
  if (!existsSync(join(ROOTFS, 'bin/busybox'))) return `no sample rootfs at ${ROOTFS} (make samples)`;
  return null;
}
const reason = skipReason();
const title = reason ? `runc in the VM lane — skipped: ${reason}` : 'runc in the VM lane';

describe.skipIf(reason !== null)(title, () => {
  const dir = reason ? '' : mkdtempSync(join(tmpdir(), 'tsrun-vmtest-runc-'));
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A bundle with the sample rootfs (read-only, used in place), `args`, and extra linux.resources. */
  function bundle(name: string, args: string[], resources: object): { path: string; cgroup: string } {
    const path = join(dir, name);
    spawnSync('mkdir', ['-p', path]);
    expect(spawnSync('runc', ['spec', '--bundle', path]).status).toBe(0);
    const config = JSON.parse(readFileSync(join(path, 'config.json'), 'utf8'));
    const cgroup = `/tsrun-vmtest-runc-${process.pid}-${name}`;
    config.root = { path: ROOTFS, readonly: true };
    config.process.terminal = false;
    config.process.args = args;
    config.linux.cgroupsPath = cgroup;
    config.linux.resources = { ...config.linux.resources, ...resources };
    writeFileSync(join(path, 'config.json'), JSON.stringify(config));
    return { path, cgroup: join('/sys/fs/cgroup', cgroup) };
  }

  it('runs a container in its own v2 cgroup with memory.max and pids.max written', () => {
    const b = bundle('limits', ['sh', '-c', 'cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max'], {
      memory: { limit: 32 * 1024 * 1024 },
      pids: { limit: 20 },
    });
    const r = spawnSync('runc', ['run', '--bundle', b.path, `vmtest-limits-${process.pid}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // runc uses a cgroup namespace: the container sees its cgroup as "/".
    expect(r.stdout).toBe(`0::/\n${32 * 1024 * 1024}\n20\n`);
    expect(existsSync(b.cgroup)).toBe(false);
  });

  it('memory.max: a container allocating past its limit is OOM-killed, runc exits 137', () => {
    const b = bundle('oom', ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], {
      memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 },
    });
    const r = spawnSync('runc', ['run', '--bundle', b.path, `vmtest-oom-${process.pid}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.status).toBe(137);
    expect(existsSync(b.cgroup)).toBe(false);
  });
});
