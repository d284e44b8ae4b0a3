// runc's `events --stats` shape from made-up cgroup v2 files (runc 1.1's fs2 reading, Go's encoding).
import { describe, expect, it } from 'vitest';
import { runcStats, stringifyWithU64 } from '../../../src/cgroups/runc-stats.js';

const files = (f: Record<string, string>) => (name: string): string | undefined => f[name];

describe('runcStats', () => {
  it('cpu.stat microseconds become nanoseconds under runc\'s names; zero throttling is left out', () => {
    const s = runcStats(files({ 'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n' }), []);
    expect(s.cpu).toEqual({ usage: { total: 1_500_000, kernel: 500_000, user: 1_000_000 }, throttling: {} });
  });

  it('memory: usage and limit ("max" as the largest uint64), swap as memory + swap, cache from memory.stat file', () => {
    const s = runcStats(files({
      'memory.stat': 'anon 100\nfile 4096\n', 'memory.current': '8192\n', 'memory.max': 'max\n', 'memory.swap.current': '10\n', 'memory.swap.max': 'max\n',
    }), []);
    expect(stringifyWithU64(s.memory)).toBe('{"cache":4096,"usage":{"limit":18446744073709551615,"usage":8192,"failcnt":0},"swap":{"limit":18446744073709551615,"usage":8202,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},"raw":{"anon":100,"file":4096}}');
  });

  it('without the memory controller the entries are Go\'s zero values; pids counted from cgroup.procs', () => {
    const s = runcStats(files({ 'cgroup.procs': '12\n13\n' }), []);
    expect(s.memory).toEqual({ usage: { limit: 0, failcnt: 0 }, swap: { limit: 0, failcnt: 0 }, kernel: { limit: 0, failcnt: 0 }, kernelTCP: { limit: 0, failcnt: 0 } });
    expect(s.pids).toEqual({ current: 2 });
  });

  it('pids.max "max" is a limit of 0, as runc reports no limit', () => {
    expect(runcStats(files({ 'pids.current': '3', 'pids.max': 'max' }), []).pids).toEqual({ current: 3 });
    expect(runcStats(files({ 'pids.current': '3', 'pids.max': '2048' }), []).pids).toEqual({ current: 3, limit: 2048 });
  });

  it('io.stat maps to v1\'s service bytes and serviced tables', () => {
    const s = runcStats(files({ 'io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n' }), []);
    expect(s.blkio).toEqual({
      ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 10 }, { major: 8, op: 'Write', value: 20 }],
      ioServicedRecursive: [{ major: 8, op: 'Read', value: 1 }, { major: 8, op: 'Write', value: 2 }],
    });
  });

  it('hugetlb per page size: usage and failcnt (events max)', () => {
    const s = runcStats(files({ 'hugetlb.2MB.current': '0', 'hugetlb.2MB.events': 'max 3\n' }), ['2MB']);
    expect(s.hugetlb).toEqual({ '2MB': { failcnt: 3 } });
  });
});
