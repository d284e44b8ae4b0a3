// Limit tests that need v2 resource controllers. Exported as data so the same bodies run wherever those
// controllers exist: in limits.test.ts on a pure v2 host (a laptop, a CI runner) and in the VM lane
// (`make test-vm`); on hybrid hosts, limits.test.ts reports them skipped with the reason.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { makeCgroup, shellIn, until } from './support.js';

export interface LimitCase {
  name: string;
  /** v2 controllers the case needs in the root's cgroup.controllers. */
  controllers: string[];
  run: () => Promise<void>;
}

const MiB = 1024 * 1024;

/** A block device to throttle: the VM's scratch disk, else the first disk-like device in /sys/block. */
function blockDevice(): string | undefined {
  const scratch = process.env['TSRUN_VM_SCRATCH_DEV'];
  if (scratch) return scratch;
  for (const name of ['vda', 'vdb', 'sda', 'nvme0n1']) {
    const dev = join('/sys/block', name, 'dev');
    if (existsSync(dev)) return readFileSync(dev, 'utf8').trim();
  }
  return undefined;
}

export const LIMIT_CASES: LimitCase[] = [
  {
    name: 'memory.max: a process over the limit is OOM-killed, and memory.events / oomKilled() say so',
    controllers: ['memory'],
    async run() {
      const cg = makeCgroup('memory', { memory: { limit: 32 * MiB, swap: 32 * MiB } });
      expect(readFileSync(join(cg.dir, 'memory.max'), 'utf8').trim()).toBe(String(32 * MiB));
      if (existsSync(join(cg.dir, 'memory.swap.max'))) expect(readFileSync(join(cg.dir, 'memory.swap.max'), 'utf8').trim()).toBe('0');
      // tail keeps its whole input when there is no newline in it: 256 MiB of zeros must not fit.
      const sh = shellIn(cg, `head -c ${256 * MiB} /dev/zero | tail`);
      const done = await sh.finished;
      expect(done.code).toBe(137);
      expect(cg.oomKilled()).toBe(true);
      expect(cg.stats().memory?.events?.['oom_kill']).toBeGreaterThanOrEqual(1);
      expect(cg.stats().memory?.peak ?? 32 * MiB).toBeLessThanOrEqual(32 * MiB);
    },
  },
  {
    name: 'memory.low and unified memory.high are written',
    controllers: ['memory'],
    async run() {
      const cg = makeCgroup('memory-low', { memory: { reservation: 8 * MiB }, unified: { 'memory.high': String(64 * MiB) } });
      expect(readFileSync(join(cg.dir, 'memory.low'), 'utf8').trim()).toBe(String(8 * MiB));
      expect(readFileSync(join(cg.dir, 'memory.high'), 'utf8').trim()).toBe(String(64 * MiB));
    },
  },
  {
    name: 'pids.max: forks beyond the limit fail',
    controllers: ['pids'],
    async run() {
      const cg = makeCgroup('pids', { pids: { limit: 4 } });
      expect(readFileSync(join(cg.dir, 'pids.max'), 'utf8').trim()).toBe('4');
      // dash gives up on the script at the first failed fork ("Cannot fork"); either way it exits.
      const sh = shellIn(cg, 'for i in 1 2 3 4 5 6 7 8; do sleep 30 >/dev/null 2>&1 & done; echo spawned all');
      const done = await sh.finished;
      expect(done.stderr).toMatch(/fork/i);
      expect(done.stdout).not.toContain('spawned all');
      expect(cg.stats().pids?.current).toBeLessThanOrEqual(4);
      expect(readFileSync(join(cg.dir, 'pids.events'), 'utf8')).toMatch(/^max [1-9]/m);
      await cg.kill(20_000);
    },
  },
  {
    name: 'cpu.max: a busy loop under a 10% quota gets throttled; shares become cpu.weight',
    controllers: ['cpu'],
    async run() {
      const cg = makeCgroup('cpu', { cpu: { quota: 10_000, period: 100_000, shares: 1024 } });
      expect(readFileSync(join(cg.dir, 'cpu.max'), 'utf8').trim()).toBe('10000 100000');
      expect(readFileSync(join(cg.dir, 'cpu.weight'), 'utf8').trim()).toBe('39');
      shellIn(cg, 'while :; do :; done');
      // Throttled once the loop has used its 10 ms in some period: wait for that rather than a fixed
      // second, in which a loaded host (or the VM lane's TCG) may not have run it enough.
      await until(() => (cg.stats().cpu?.['nr_throttled'] ?? 0) > 0, 20_000);
      const cpu = cg.stats().cpu ?? {};
      expect(cpu['nr_throttled']).toBeGreaterThan(0);
      expect(cpu['throttled_usec']).toBeGreaterThan(0);
      await cg.kill(20_000);
    },
  },
  {
    name: 'cpuset.cpus: processes may only run on the given CPUs',
    controllers: ['cpuset'],
    async run() {
      const cg = makeCgroup('cpuset', { cpu: { cpus: '0', mems: '0' } });
      const sh = shellIn(cg, 'grep Cpus_allowed_list /proc/self/status');
      const done = await sh.finished;
      expect(done.stdout).toMatch(/^Cpus_allowed_list:\s+0$/m);
    },
  },
  {
    name: 'io.max: per-device throttles are written as one line per device',
    controllers: ['io'],
    async run() {
      const dev = blockDevice();
      if (dev === undefined) return; // no block device to name (the VM lane always has its scratch disk)
      const [major, minor] = dev.split(':').map(Number) as [number, number];
      const cg = makeCgroup('io', {
        blockIO: {
          throttleReadBpsDevice: [{ major, minor, rate: MiB }],
          throttleWriteIOPSDevice: [{ major, minor, rate: 100 }],
        },
      });
      expect(readFileSync(join(cg.dir, 'io.max'), 'utf8')).toContain(`${dev} rbps=${MiB} wbps=max riops=max wiops=100`);
    },
  },
];
