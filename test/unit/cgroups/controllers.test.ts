import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { cpuWrites, sharesToWeight } from '../../../src/cgroups/controllers/cpu.js';
import { cpusetWrites } from '../../../src/cgroups/controllers/cpuset.js';
import { hugetlbWrites } from '../../../src/cgroups/controllers/hugetlb.js';
import { blkioWeightToIoWeight, ioWrites } from '../../../src/cgroups/controllers/io.js';
import { memoryWrites, swapMaxValue } from '../../../src/cgroups/controllers/memory.js';
import { pidsWrites } from '../../../src/cgroups/controllers/pids.js';
import { unifiedWrites } from '../../../src/cgroups/controllers/unified.js';
import type { FileWrite } from '../../../src/cgroups/types.js';

const P = 'linux.resources';
/** "file=value" pairs, the part of a write most tests care about. */
const pairs = (writes: FileWrite[]): string[] => writes.map((w) => `${w.file}=${w.value}`);
const fieldError = (fn: () => unknown): { field?: string; message: string } => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { field: (err as ConfigError).details.field, message: (err as Error).message };
  }
  throw new Error('expected a ConfigError');
};

describe('memory', () => {
  it('maps limit to memory.max and reservation to memory.low, naming the config field', () => {
    expect(memoryWrites({ memory: { limit: 104857600, reservation: 52428800 } }, P)).toEqual([
      { controller: 'memory', file: 'memory.max', value: '104857600', field: 'linux.resources.memory.limit' },
      { controller: 'memory', file: 'memory.low', value: '52428800', field: 'linux.resources.memory.reservation' },
    ]);
  });
  it('writes -1 as max and treats 0 as unset', () => {
    expect(memoryWrites({ memory: { limit: -1 } }, P)).toEqual([
      { controller: 'memory', file: 'memory.max', value: 'max', field: 'linux.resources.memory.limit' },
      // implied by the unlimited limit, so skipped where the kernel has no swap accounting
      { controller: 'memory', file: 'memory.swap.max', value: 'max', field: 'linux.resources.memory.limit', optional: true },
    ]);
    expect(memoryWrites({ memory: { limit: 0, reservation: 0 } }, P)).toEqual([]);
    expect(pairs(memoryWrites({ memory: { reservation: -1 } }, P))).toEqual(['memory.low=max']);
  });
  it('converts OCI memory+swap into the v2 swap-only limit', () => {
    expect(pairs(memoryWrites({ memory: { limit: 100, swap: 300 } }, P))).toEqual(['memory.max=100', 'memory.swap.max=200']);
    expect(pairs(memoryWrites({ memory: { limit: 100, swap: 100 } }, P))).toEqual(['memory.max=100', 'memory.swap.max=0']);
    expect(pairs(memoryWrites({ memory: { limit: 100, swap: -1 } }, P))).toEqual(['memory.max=100', 'memory.swap.max=max']);
    expect(swapMaxValue(0, 100, 'f')).toBeUndefined();
  });
  it('refuses swap below the memory limit, or without one', () => {
    expect(fieldError(() => memoryWrites({ memory: { limit: 200, swap: 100 } }, P))).toEqual({
      field: 'linux.resources.memory.swap',
      message: 'linux.resources.memory.swap: is memory+swap and must be >= memory.limit (200), got 100',
    });
    expect(fieldError(() => memoryWrites({ memory: { swap: 100 } }, P)).field).toBe('linux.resources.memory.swap');
  });
  it('refuses disableOOMKiller: true on v2 and accepts false', () => {
    const e = fieldError(() => memoryWrites({ memory: { disableOOMKiller: true } }, P));
    expect(e.field).toBe('linux.resources.memory.disableOOMKiller');
    expect(e.message).toMatch(/cannot be honoured on cgroup v2/);
    expect(memoryWrites({ memory: { disableOOMKiller: false } }, P)).toEqual([]);
  });
  it('refuses non-integers and limits below -1', () => {
    expect(fieldError(() => memoryWrites({ memory: { limit: 1.5 } }, P)).field).toBe('linux.resources.memory.limit');
    expect(fieldError(() => memoryWrites({ memory: { limit: -2 } }, P)).field).toBe('linux.resources.memory.limit');
  });
});

describe('cpu', () => {
  it('converts shares to weight like runc and crun: 1 + ((shares-2)*9999)/262142', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(512)).toBe(20);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(sharesToWeight(1)).toBe(1); // clamped, as v1 did
    expect(sharesToWeight(10_000_000)).toBe(10000);
    expect(cpuWrites({ cpu: { shares: 1024 } }, P)).toEqual([
      { controller: 'cpu', file: 'cpu.weight', value: '39', field: 'linux.resources.cpu.shares' },
    ]);
    expect(cpuWrites({ cpu: { shares: 0 } }, P)).toEqual([]);
  });
  it('writes quota and period to cpu.max', () => {
    expect(pairs(cpuWrites({ cpu: { quota: 50000, period: 100000 } }, P))).toEqual(['cpu.max=50000 100000']);
    expect(pairs(cpuWrites({ cpu: { quota: 20000 } }, P))).toEqual(['cpu.max=20000']);
    expect(pairs(cpuWrites({ cpu: { quota: -1, period: 50000 } }, P))).toEqual(['cpu.max=max 50000']);
    expect(cpuWrites({ cpu: { period: 50000 } }, P)[0]).toMatchObject({ value: 'max 50000', field: 'linux.resources.cpu.period' });
  });
  it('writes burst and idle', () => {
    expect(pairs(cpuWrites({ cpu: { burst: 1000, idle: 1 } }, P))).toEqual(['cpu.max.burst=1000', 'cpu.idle=1']);
    expect(fieldError(() => cpuWrites({ cpu: { idle: 2 } }, P)).field).toBe('linux.resources.cpu.idle');
  });
  it('refuses real-time limits, which v2 does not have', () => {
    expect(fieldError(() => cpuWrites({ cpu: { realtimeRuntime: 950000 } }, P)).field).toBe('linux.resources.cpu.realtimeRuntime');
    expect(cpuWrites({ cpu: { realtimePeriod: 0 } }, P)).toEqual([]);
  });
});

describe('cpuset', () => {
  it('writes cpus and mems to the cpuset controller', () => {
    expect(cpusetWrites({ cpu: { cpus: '0-1, 3', mems: '0' } }, P)).toEqual([
      { controller: 'cpuset', file: 'cpuset.cpus', value: '0-1,3', field: 'linux.resources.cpu.cpus' },
      { controller: 'cpuset', file: 'cpuset.mems', value: '0', field: 'linux.resources.cpu.mems' },
    ]);
  });
  it('ignores empty lists and refuses malformed ones', () => {
    expect(cpusetWrites({ cpu: { cpus: '' } }, P)).toEqual([]);
    expect(fieldError(() => cpusetWrites({ cpu: { cpus: 'all' } }, P)).field).toBe('linux.resources.cpu.cpus');
  });
});

describe('pids', () => {
  it('writes a positive limit, and max for 0 or -1', () => {
    expect(pidsWrites({ pids: { limit: 32 } }, P)).toEqual([{ controller: 'pids', file: 'pids.max', value: '32', field: 'linux.resources.pids.limit' }]);
    // 0 and -1 mean no limit: nothing to write (so no pids controller is needed).
    expect(pidsWrites({ pids: { limit: -1 } }, P)).toEqual([]);
    expect(pidsWrites({ pids: { limit: 0 } }, P)).toEqual([]);
  });
});

describe('io', () => {
  it('converts blkio weights (10..1000) to io.weight (1..10000) and writes BFQ weights unconverted', () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
    expect(ioWrites({ blockIO: { weight: 500 } }, P)).toEqual([
      { controller: 'io', file: 'io.bfq.weight', value: 'default 500', field: 'linux.resources.blockIO.weight', optional: true },
      { controller: 'io', file: 'io.weight', value: 'default 4950', field: 'linux.resources.blockIO.weight' },
    ]);
  });
  it('writes per-device weights', () => {
    expect(pairs(ioWrites({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 1000 }, { major: 8, minor: 16 }] } }, P))).toEqual([
      'io.bfq.weight=8:0 1000',
      'io.weight=8:0 10000',
    ]);
  });
  it('refuses weights outside 10..1000', () => {
    expect(fieldError(() => ioWrites({ blockIO: { weight: 5 } }, P)).field).toBe('linux.resources.blockIO.weight');
  });
  it('collects the throttles of one device into one io.max line', () => {
    const writes = ioWrites(
      {
        blockIO: {
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
          throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }, { major: 253, minor: 1, rate: 0 }],
          throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 50 }],
        },
      },
      P,
    );
    expect(writes).toEqual([
      { controller: 'io', file: 'io.max', value: '8:0 rbps=1048576 wbps=2097152 riops=100 wiops=50', field: 'linux.resources.blockIO.throttleReadBpsDevice[0]' },
      { controller: 'io', file: 'io.max', value: '253:1 wbps=max', field: 'linux.resources.blockIO.throttleWriteBpsDevice[1]' },
    ]);
  });
  it('refuses negative rates', () => {
    expect(fieldError(() => ioWrites({ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: -5 }] } }, P)).field).toBe(
      'linux.resources.blockIO.throttleReadBpsDevice[0].rate',
    );
  });
});

describe('hugetlb', () => {
  it('writes hugetlb.<size>.max and, where the kernel has it, rsvd.max', () => {
    expect(hugetlbWrites({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, P)).toEqual([
      { controller: 'hugetlb', file: 'hugetlb.2MB.max', value: '4194304', field: 'linux.resources.hugepageLimits[0].limit' },
      { controller: 'hugetlb', file: 'hugetlb.2MB.rsvd.max', value: '4194304', field: 'linux.resources.hugepageLimits[0].limit', optional: true },
    ]);
  });
  it('refuses page sizes that are not kernel size names', () => {
    expect(fieldError(() => hugetlbWrites({ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, P)).field).toBe('linux.resources.hugepageLimits[0].pageSize');
    expect(fieldError(() => hugetlbWrites({ hugepageLimits: [{ pageSize: '../x', limit: 1 }] }, P)).field).toBe('linux.resources.hugepageLimits[0].pageSize');
  });
});

describe('unified', () => {
  it('writes keys verbatim, owned by the controller named before the first dot', () => {
    expect(unifiedWrites({ unified: { 'memory.high': '50M', 'cgroup.max.descendants': '10' } }, P)).toEqual([
      { controller: 'memory', file: 'memory.high', value: '50M', field: 'linux.resources.unified["memory.high"]' },
      { controller: 'cgroup', file: 'cgroup.max.descendants', value: '10', field: 'linux.resources.unified["cgroup.max.descendants"]' },
    ]);
  });
  it('accepts file names with capitals, such as hugetlb.2MB.max', () => {
    expect(pairs(unifiedWrites({ unified: { 'hugetlb.2MB.max': '0' } }, P))).toEqual(['hugetlb.2MB.max=0']);
  });
  it('refuses paths, non-file names and runtime-managed core files', () => {
    expect(fieldError(() => unifiedWrites({ unified: { '../memory.max': '1' } }, P)).message).toMatch(/without "\/"/);
    expect(fieldError(() => unifiedWrites({ unified: { 'memory/max': '1' } }, P)).message).toMatch(/without "\/"/);
    expect(fieldError(() => unifiedWrites({ unified: { memory: '1' } }, P)).message).toMatch(/not a cgroup v2 interface file/);
    expect(fieldError(() => unifiedWrites({ unified: { 'cgroup.procs': '1' } }, P)).field).toBe('linux.resources.unified["cgroup.procs"]');
    expect(fieldError(() => unifiedWrites({ unified: { 'cgroup.subtree_control': '+memory' } }, P)).message).toMatch(/runtime manages itself/);
  });
});
