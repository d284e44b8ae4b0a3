// Issue 3's proof: real tsrun containers, on a pure cgroup v2 kernel (the VM lane), with every limit
// applied and observed from inside and outside. On a hybrid host these are skipped with the reason.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const TSRUN = resolve('bin/tsrun');
const SAMPLE = resolve('rootfs-samples/build/busybox');

function skipReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root';
  const controllers = (() => { try { return readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8'); } catch { return ''; } })();
  for (const c of ['memory', 'cpu', 'pids', 'cpuset', 'io']) {
    if (!controllers.split(/\s+/).includes(c)) return `the cgroup v2 "${c}" controller is not available at /sys/fs/cgroup (hybrid or v1 host): run \`make test-vm\``;
  }
  if (!existsSync(join(SAMPLE, 'config.json'))) return 'no sample bundle (make samples)';
  return null;
}
const reason = skipReason();

interface Result { status: number | null; stdout: string; stderr: string }

describe.skipIf(reason !== null)(`tsrun limits on cgroup v2${reason ? ` — skipped: ${reason}` : ''}`, () => {
  const dir = reason ? '' : mkdtempSync(join(tmpdir(), 'tsrun-vm-limits-'));
  const root = join(dir, 'state');
  afterAll(() => {
    if (!dir) return;
    spawnSync(TSRUN, ['--root', root, 'list', '-q'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)
      .forEach((id) => spawnSync(TSRUN, ['--root', root, 'delete', '-f', id]));
    rmSync(dir, { recursive: true, force: true });
  });

  const tsrun = (args: string[], input?: string): Result => {
    // A detached container keeps the stdio tsrun gave it, and spawnSync waits for its pipes to close:
    // `run -d` gets none (it ran into the 120 s timeout with a container that runs on).
    const detached = args[0] === 'run' && args.includes('-d');
    const r = spawnSync(TSRUN, ['--root', root, ...args], { encoding: 'utf8', timeout: 120_000, ...(detached ? { stdio: 'ignore' } : { input: input ?? '' }) });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };

  /** A bundle using the sample rootfs in place (read-only), with a cgroup namespace and `resources`. */
  function bundle(name: string, args: string[], resources: object, edit: (c: Record<string, any>) => void = () => {}): string {
    const path = join(dir, name);
    mkdirSync(path, { recursive: true });
    const config = JSON.parse(readFileSync(join(SAMPLE, 'config.json'), 'utf8'));
    config.root = { path: join(SAMPLE, 'rootfs'), readonly: true };
    config.process.args = args;
    config.linux.namespaces.push({ type: 'cgroup' });
    config.linux.resources = { ...config.linux.resources, ...resources };
    edit(config);
    writeFileSync(join(path, 'config.json'), JSON.stringify(config));
    return path;
  }
  const sh = (script: string): string[] => ['sh', '-c', script];
  const cgroupDir = (id: string): string => join('/sys/fs/cgroup/tsrun', id);

  it('memory.max: an allocation over the limit is OOM-killed, run exits 137 and says so; memory.events counts it', () => {
    const b = bundle('oom', sh('cat /sys/fs/cgroup/memory.max; x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'), {
      memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 },
    });
    const r = tsrun(['run', '--bundle', b, 'vm-oom']);
    expect(r.stdout).toBe(`${16 * 1024 * 1024}\n`);
    expect(r.status).toBe(137);
    expect(r.stderr).toMatch(/killed by the OOM killer/);
    expect(existsSync(cgroupDir('vm-oom'))).toBe(false);
  });

  it('pids.max: forks beyond the limit fail (the host sees pids.current <= 5 and pids.events max > 0)', () => {
    // Observed from the host: busybox sh gives up when a fork fails, so the container cannot report it.
    const b = bundle('pids', sh('for i in 1 2 3 4 5 6 7 8 9 10; do sleep 30 & done; sleep 30'), { pids: { limit: 5 } });
    expect(tsrun(['run', '-d', '--bundle', b, 'vm-pids']).status).toBe(0);
    spawnSync('sleep', ['2']);
    const dir = cgroupDir('vm-pids');
    expect(readFileSync(join(dir, 'pids.max'), 'utf8').trim()).toBe('5');
    expect(Number(readFileSync(join(dir, 'pids.current'), 'utf8'))).toBeLessThanOrEqual(5);
    expect(Number(/^max (\d+)$/m.exec(readFileSync(join(dir, 'pids.events'), 'utf8'))?.[1])).toBeGreaterThan(0);
    expect(tsrun(['delete', '-f', 'vm-pids']).status).toBe(0);
  });

  it('cpu.max: a busy loop under a 10% quota is throttled (throttledPeriods > 0 in tsrun events --stats, as runc says it)', () => {
    const b = bundle('cpu', sh('while :; do :; done'), { cpu: { quota: 10000, period: 100000 } });
    expect(tsrun(['run', '-d', '--bundle', b, 'vm-cpu']).status).toBe(0);
    spawnSync('sleep', ['2']);
    const stats = tsrun(['events', '--stats', 'vm-cpu']);
    expect(readFileSync(join(cgroupDir('vm-cpu'), 'cpu.max'), 'utf8').trim()).toBe('10000 100000');
    // runc's types.Stats (what docker stats and ctr task metrics read), and tsrun's cgroup v2 reading.
    const event = JSON.parse(stats.stdout) as { data: { cpu: { throttling: { throttledPeriods?: number } } }; cgroup2: { cpu: Record<string, number> } };
    expect(event.data.cpu.throttling.throttledPeriods).toBeGreaterThan(0);
    expect(event.cgroup2.cpu.nr_throttled).toBeGreaterThan(0);
    expect(tsrun(['delete', '-f', 'vm-cpu']).status).toBe(0);
    expect(existsSync(cgroupDir('vm-cpu'))).toBe(false);
  });

  it('cpuset: the container may run only on the CPUs given', () => {
    const b = bundle('cpuset', sh('grep Cpus_allowed_list /proc/self/status'), { cpu: { cpus: '0' } });
    const r = tsrun(['run', '--bundle', b, 'vm-cpuset']);
    expect(r.stdout).toMatch(/^Cpus_allowed_list:\s+0$/m);
    expect(r.status).toBe(0);
  });

  it.skipIf(!process.env.TSRUN_VM_SCRATCH_DEV)('io.max: reads from the scratch disk are throttled to the configured rate', () => {
    const [major, minor] = (process.env.TSRUN_VM_SCRATCH_DEV ?? '0:0').split(':').map(Number);
    const disk = process.env.TSRUN_VM_SCRATCH_DISK ?? '';
    const b = bundle('io', sh(`cat /sys/fs/cgroup/io.max; s=$(date +%s); dd if=/disk of=/dev/null bs=64k count=64 iflag=direct 2>/dev/null; echo took $(( $(date +%s) - s ))`), {
      blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1024 * 1024 }] },
      devices: [{ allow: true, type: 'b', major, minor, access: 'r' }],
    }, (c) => { c.mounts.push({ destination: '/disk', type: 'bind', source: disk, options: ['bind', 'ro'] }); });
    const r = tsrun(['run', '--bundle', b, 'vm-io']);
    expect(r.stdout).toMatch(new RegExp(`^${major}:${minor} rbps=1048576`, 'm'));
    // 4 MiB at 1 MiB/s takes about 3 s or more (the first second's budget is granted at once).
    expect(Number(/took (\d+)/.exec(r.stdout)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('hugetlb and linux.resources.unified files are written verbatim', () => {
    const b = bundle('files', sh('cat /sys/fs/cgroup/hugetlb.2MB.max /sys/fs/cgroup/memory.high'), {
      hugepageLimits: [{ pageSize: '2MB', limit: 4 * 1024 * 1024 }],
      unified: { 'memory.high': '50000000' },
    });
    const r = tsrun(['run', '--bundle', b, 'vm-files']);
    expect(r.stdout).toBe(`${4 * 1024 * 1024}\n49999872\n`);
  });

  it('pause freezes the container (no progress) and resume thaws it', () => {
    const counter = join(dir, 'counter');
    mkdirSync(counter);
    const b = bundle('freeze', sh('i=0; while :; do i=$((i+1)); echo $i > /out/n; sleep 0.1; done'), {}, (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: counter, options: ['bind'] });
    });
    expect(tsrun(['run', '-d', '--bundle', b, 'vm-freeze']).status).toBe(0);
    spawnSync('sleep', ['2']);
    expect(tsrun(['pause', 'vm-freeze']).status).toBe(0);
    expect(JSON.parse(tsrun(['state', 'vm-freeze']).stdout).status).toBe('paused');
    const a = readFileSync(join(counter, 'n'), 'utf8');
    spawnSync('sleep', ['2']);
    expect(readFileSync(join(counter, 'n'), 'utf8')).toBe(a);
    expect(tsrun(['resume', 'vm-freeze']).status).toBe(0);
    spawnSync('sleep', ['2']);
    expect(Number(readFileSync(join(counter, 'n'), 'utf8'))).toBeGreaterThan(Number(a));
    expect(tsrun(['delete', '-f', 'vm-freeze']).status).toBe(0);
  });

  it('delete -f ends every process of the container through cgroup.kill (no PID namespace to do it)', () => {
    const b = bundle('kill', sh('sleep 300 & sleep 300 & exec sleep 300'), {}, (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    });
    expect(tsrun(['run', '-d', '--bundle', b, 'vm-kill']).status).toBe(0);
    spawnSync('sleep', ['1']);
    const pids = readFileSync(join(cgroupDir('vm-kill'), 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
    expect(pids.length).toBe(3);
    expect(tsrun(['delete', '-f', 'vm-kill']).status).toBe(0);
    for (const pid of pids) expect(existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sleep')).toBe(false);
    expect(existsSync(cgroupDir('vm-kill'))).toBe(false);
  });
});
