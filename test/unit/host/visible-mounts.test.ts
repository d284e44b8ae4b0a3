// Which mounts a path lookup reaches (issue 13: with cgroup2 bind-mounted over /sys/fs/cgroup in a
// private mount namespace, tsrun chose the hidden /sys/fs/cgroup/unified and said no cgroup v2
// hierarchy was mounted). Samples are real tables from this host, cut to the lines that matter.
import { describe, expect, it } from 'vitest';
import { parseMountInfo, visibleMounts } from '../../../src/host/mountinfo.js';
import { findCgroupMounts } from '../../../src/cgroups/mount.js';

/** This hybrid host after `unshare -m --propagation private` + `mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup`. */
const BOUND_OVER_SYS_FS_CGROUP = `46 45 254:0 / / rw,relatime - ext4 /dev/vda rw
50 49 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
51 50 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
58 50 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
60 50 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
66 50 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw
`;

/** The host's cgroup2 mount covered by a tmpfs after a bind of it elsewhere: only the bind is reachable. */
const COVERED_AFTER_BIND = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 22 0:28 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw
70 22 0:60 / /tmp/x rw,relatime - tmpfs tmpfs rw
71 70 0:28 / /tmp/x/cg rw,relatime - cgroup2 cgroup2 rw
72 31 0:61 / /sys/fs/cgroup rw,relatime - tmpfs none rw
`;

const ids = (text: string): number[] => visibleMounts(parseMountInfo(text)).map((m) => m.mountId);

describe('visibleMounts', () => {
  it('a mount stacked on the same mount point covers the one below, and everything under that', () => {
    expect(ids(BOUND_OVER_SYS_FS_CGROUP)).toEqual([46, 66]);
  });

  it('a mount made later at a directory between a mount and its parent hides it', () => {
    const text = `1 0 0:1 / / rw - ext4 /dev/vda rw
2 1 0:2 / /a/b/c rw - tmpfs t rw
3 1 0:3 / /a/b rw - tmpfs t rw
4 3 0:4 / /a/b/c rw - tmpfs t rw
5 1 0:5 / /a/bc rw - tmpfs t rw
`;
    expect(ids(text)).toEqual([1, 3, 4, 5]);
  });

  it('follows parent links, not list order: a mount tucked beneath another (propagation) stays below it', () => {
    // 10 was on /mnt first; 20 was propagated beneath it (listed later), and 10 was moved onto it.
    const text = `1 0 0:1 / / rw - ext4 /dev/vda rw
10 20 0:10 / /mnt rw - tmpfs top rw
20 1 0:20 / /mnt rw - tmpfs beneath rw
`;
    expect(ids(text)).toEqual([1, 10]);
  });

  it('keeps a table whose root\'s parent is outside it (a chroot, a container) and hand-made tables without parents', () => {
    expect(ids(`22 1 8:1 / / rw - ext4 /dev/sda1 rw\n35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n`)).toEqual([22, 35]);
  });
});

describe('findCgroupMounts takes the visible cgroup2 mount', () => {
  it('cgroup2 bound over /sys/fs/cgroup on a hybrid host: /sys/fs/cgroup, and no v1 (hidden under it)', () => {
    expect(findCgroupMounts(BOUND_OVER_SYS_FS_CGROUP)).toEqual({ v2: '/sys/fs/cgroup', hasV1: false });
  });

  it('the system\'s cgroup2 covered by a tmpfs: the bind of it made before', () => {
    expect(findCgroupMounts(COVERED_AFTER_BIND)).toEqual({ v2: '/tmp/x/cg', hasV1: false });
  });

  it('among visible mounts, still the whole hierarchy over a subtree bind, then the first', () => {
    const text = `1 0 0:1 / / rw - ext4 /dev/vda rw
50 1 0:30 /tsrun/c1 /run/c1/cgroup rw - cgroup2 cgroup2 rw
35 1 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
36 1 0:30 / /mnt/cg rw - cgroup2 cgroup2 rw
`;
    expect(findCgroupMounts(text).v2).toBe('/sys/fs/cgroup');
  });
});
