import { describe, expect, it } from 'vitest';
import { parseFlatKeyed, parseSingle } from '../../../src/cgroups/files.js';
import { hugePageSizeName, parseIoStat } from '../../../src/cgroups/stats.js';
import { pathChain } from '../../../src/cgroups/tree.js';

describe('cgroup file parsers', () => {
  it('reads flat keyed files such as cgroup.events and memory.events', () => {
    expect(parseFlatKeyed('populated 1\nfrozen 0\n')).toEqual({ populated: 1, frozen: 0 });
    expect(parseFlatKeyed('low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n')).toMatchObject({ oom: 1, oom_kill: 1 });
  });
  it('reads single values, with max as Infinity', () => {
    expect(parseSingle('4096\n')).toBe(4096);
    expect(parseSingle('max\n')).toBe(Infinity);
  });
  it('reads io.stat lines per device', () => {
    expect(parseIoStat('8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n')).toEqual([
      { device: '8:0', rbytes: 4096, wbytes: 8192, rios: 1, wios: 2, dbytes: 0, dios: 0 },
    ]);
  });
  it('names huge page sizes the way hugetlb files do', () => {
    expect(hugePageSizeName('hugepages-2048kB')).toBe('2MB');
    expect(hugePageSizeName('hugepages-1048576kB')).toBe('1GB');
    expect(hugePageSizeName('hugepages-64kB')).toBe('64KB');
    expect(hugePageSizeName('nr_hugepages')).toBeUndefined();
  });
});

describe('pathChain', () => {
  it('lists the directories to create, outermost first, and refuses paths outside the mount', () => {
    expect(pathChain('/sys/fs/cgroup', '/sys/fs/cgroup/tsrun/c1')).toEqual(['/sys/fs/cgroup/tsrun', '/sys/fs/cgroup/tsrun/c1']);
    expect(() => pathChain('/sys/fs/cgroup', '/sys/fs/cgroup')).toThrow(/not below/);
    expect(() => pathChain('/sys/fs/cgroup', '/etc')).toThrow(/not below/);
  });
});
