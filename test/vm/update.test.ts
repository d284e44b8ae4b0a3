// `tsrun update` (issue 16 item 5) on a pure cgroup v2 kernel, side by side with runc: the same flags
// and the same -r JSON give the same cgroup files on a running container; the new limits bite (a pids
// limit lowered under a running container stops its forks); what create refuses, update refuses too,
// and a refused update leaves the files as they were. On a hybrid host these are skipped (the refusal
// there is test/integration/cgroups/update.test.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const TSRUN = resolve('bin/tsrun');
const ROOTFS = resolve('rootfs-samples/build/busybox/rootfs');
const RUNTIMES = ['tsrun', 'runc'] as const;
type Runtime = typeof RUNTIMES[number];

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const controllers = (() => { try { return readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/); } catch { return []; } })();
  for (const c of ['memory', 'cpu', 'pids', 'cpuset']) {
    if (!controllers.includes(c)) return `the cgroup v2 "${c}" controller is not available at /sys/fs/cgroup (hybrid or v1 host): run \`make test-vm\``;
  }
  if (spawnSync('runc', ['--version']).status !== 0) return 'runc not installed (make deb-deps)';
  if (!existsSync(join(ROOTFS, 'bin/busybox'))) return `no sample rootfs at ${ROOTFS} (make samples)`;
  return null;
}
const reason = skipReason();

interface Result { status: number | null; stdout: string; stderr: string }

describe.skipIf(reason !== null)(`update on cgroup v2, side by side with runc${reason ? ` — skipped: ${reason}` : ''}`, () => {
  const dir = reason ? '' : mkdtempSync(join(tmpdir(), 'tsrun-vm-update-'));
  const made: [Runtime, string][] = [];
  afterAll(() => {
    for (const [rt, id] of made) cli(rt, ['delete', '-f', id]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function cli(rt: Runtime, args: string[], input?: string): Result {
    const bin = rt === 'tsrun' ? TSRUN : 'runc';
    const detached = args[0] === 'run' && args.includes('-d');
    const r = spawnSync(bin, ['--root', join(dir, `${rt}-state`), ...args], { encoding: 'utf8', timeout: 120_000, ...(detached ? { stdio: 'ignore' } : { input: input ?? '' }) });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  /** A running `sleep` of runtime rt in cgroup /tsrun-vm-update-<rt>-<name>, created with `resources`. */
  function running(rt: Runtime, name: string, resources: object = {}): { id: string; cgroup: string } {
    const path = join(dir, `${rt}-${name}`);
    mkdirSync(path, { recursive: true });
    expect(spawnSync('runc', ['spec', '--bundle', path]).status).toBe(0);
    const config = JSON.parse(readFileSync(join(path, 'config.json'), 'utf8'));
    config.root = { path: ROOTFS, readonly: true };
    config.process.terminal = false;
    config.process.args = ['sleep', '1000'];
    config.linux.cgroupsPath = `/tsrun-vm-update-${rt}-${name}`;
    config.linux.resources = { ...config.linux.resources, ...resources };
    writeFileSync(join(path, 'config.json'), JSON.stringify(config));
    const id = `upd-${rt}-${name}`;
    const r = cli(rt, ['run', '-d', '--bundle', path, id]);
    expect(r.status, r.stderr).toBe(0);
    made.push([rt, id]);
    return { id, cgroup: join('/sys/fs/cgroup', config.linux.cgroupsPath) };
  }

  const files = (cgroup: string, names: string[]): Record<string, string> =>
    Object.fromEntries(names.map((f) => [f, readFileSync(join(cgroup, f), 'utf8').trim()]));
  const LIMIT_FILES = ['memory.max', 'memory.swap.max', 'memory.low', 'cpu.max', 'cpu.weight', 'pids.max', 'cpuset.cpus'];

  it('runc\'s flags: the same cgroup files as runc\'s update writes', () => {
    const seen: Record<string, Record<string, string>> = {};
    for (const rt of RUNTIMES) {
      const c = running(rt, 'flags', { memory: { limit: 64 * 2 ** 20 } });
      const r = cli(rt, ['update', '--memory', '32m', '--memory-swap', '48m', '--memory-reservation', '8m', '--cpu-quota', '20000', '--cpu-period', '100000', '--cpu-share', '512', '--pids-limit', '20', '--cpuset-cpus', '0', c.id]);
      expect(r.stderr, rt).toBe('');
      expect(r.status, rt).toBe(0);
      seen[rt] = files(c.cgroup, LIMIT_FILES);
    }
    expect(seen.tsrun).toEqual({
      'memory.max': `${32 * 2 ** 20}`, 'memory.swap.max': `${16 * 2 ** 20}`, 'memory.low': `${8 * 2 ** 20}`,
      'cpu.max': '20000 100000', 'cpu.weight': seen.runc!['cpu.weight'], 'pids.max': '20', 'cpuset.cpus': '0',
    });
    expect(seen.tsrun).toEqual(seen.runc);
  });

  it('-r - (what containerd\'s shim sends): the same files as runc; memory -1 without swap lifts both', () => {
    const seen: Record<string, Record<string, string>> = {};
    const json = JSON.stringify({ memory: { limit: -1 }, cpu: { shares: 0, quota: 0, period: 0, cpus: '', mems: '' }, pids: { limit: 0 } });
    for (const rt of RUNTIMES) {
      const c = running(rt, 'json', { memory: { limit: 64 * 2 ** 20, swap: 64 * 2 ** 20 }, pids: { limit: 30 } });
      const r = cli(rt, ['update', '-r', '-', c.id], json);
      expect(r.stderr, rt).toBe('');
      expect(r.status, rt).toBe(0);
      seen[rt] = files(c.cgroup, ['memory.max', 'memory.swap.max', 'pids.max']);
    }
    expect(seen.tsrun).toEqual({ 'memory.max': 'max', 'memory.swap.max': 'max', 'pids.max': '30' });
    expect(seen.tsrun).toEqual(seen.runc);
  });

  it('a pids limit lowered under a running container stops its next forks', () => {
    const c = running('tsrun', 'bite');
    expect(cli('tsrun', ['update', '--pids-limit', '3', c.id]).status).toBe(0);
    const r = cli('tsrun', ['exec', c.id, 'sh', '-c', 'for i in 1 2 3 4 5; do sleep 2 & done; wait']);
    expect(r.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    expect(Number(/max (\d+)/.exec(readFileSync(join(c.cgroup, 'pids.events'), 'utf8'))?.[1])).toBeGreaterThan(0);
  });

  it('refused as at create (a swap below the memory limit, realtime cpu): nothing is written', () => {
    const c = running('tsrun', 'refused', { memory: { limit: 64 * 2 ** 20, swap: 128 * 2 ** 20 } });
    const before = files(c.cgroup, LIMIT_FILES);
    const swap = cli('tsrun', ['update', '--memory', '256m', c.id]);
    expect(swap.status).toBe(1);
    expect(swap.stderr).toMatch(/linux\.resources\.memory\.swap/);
    const rt = cli('tsrun', ['update', '--cpu-rt-runtime', '1000', c.id]);
    expect(rt.status).toBe(1);
    expect(rt.stderr).toMatch(/linux\.resources\.cpu\.realtimeRuntime/);
    expect(files(c.cgroup, LIMIT_FILES)).toEqual(before);
  });
});
