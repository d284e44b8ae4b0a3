// `events --stats` says which stats a container's cgroup cannot have, and why.
import { describe, expect, it } from 'vitest';
import { missingStats } from '../../../src/container/stats-missing.js';

const HYBRID_PROC_CGROUPS = '#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t2\t1\t1\nmemory\t3\t1\t1\npids\t4\t1\t1\nblkio\t5\t1\t1\nhugetlb\t0\t1\t1\n';

describe('missingStats', () => {
  it('on a hybrid host: memory, cpu throttling, pids and io are held by cgroup v1; hugetlb is there', () => {
    const m = missingStats({
      cgroupControllers: ['hugetlb'], hierarchyControllers: ['hugetlb'], mountPoint: '/sys/fs/cgroup/unified',
      heldByV1: ['cpu', 'memory', 'pids', 'blkio'], procCgroups: HYBRID_PROC_CGROUPS,
    });
    expect(Object.keys(m)).toEqual(['memory', 'cpu', 'pids', 'io']);
    expect(m.memory).toBe('no memory.current, memory.peak, memory.events: the cgroup v2 hierarchy at /sys/fs/cgroup/unified has no memory controller: cgroup v1 holds it (a hybrid host; tsrun check says more)');
    expect(m.cpu).toMatch(/^no cpu\.stat nr_periods, nr_throttled, throttled_usec \(usage_usec is always there\): .* no cpu controller: cgroup v1 holds it/);
  });

  it('on a pure v2 host: a controller the config set no limit for is not enabled for the container, and the field says how', () => {
    const m = missingStats({
      cgroupControllers: ['memory'], hierarchyControllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'], mountPoint: '/sys/fs/cgroup', heldByV1: [],
    });
    expect(Object.keys(m)).toEqual(['cpu', 'pids', 'io', 'hugetlb']);
    expect(m.pids).toBe("no pids.current: the pids controller is not enabled for this container's cgroup (tsrun enables it only when the config sets linux.resources.pids)");
  });

  it('names a controller disabled at boot, or not built', () => {
    const m = missingStats({
      cgroupControllers: [], hierarchyControllers: [], mountPoint: '/sys/fs/cgroup', heldByV1: [],
      procCgroups: '#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t0\t1\t0\ncpu\t0\t1\t1\npids\t0\t1\t1\nblkio\t0\t1\t1\n',
    });
    expect(m.memory).toMatch(/disabled at boot \(cgroup_disable=memory\)$/);
    expect(m.hugetlb).toMatch(/this kernel was built without it$/);
    expect(m.cpu).toMatch(/not enabled above this cgroup$/);
  });

  it('is empty when the cgroup has every controller', () => {
    const all = ['memory', 'cpu', 'pids', 'io', 'hugetlb'];
    expect(missingStats({ cgroupControllers: all, hierarchyControllers: all, mountPoint: '/sys/fs/cgroup', heldByV1: [] })).toEqual({});
  });
});
