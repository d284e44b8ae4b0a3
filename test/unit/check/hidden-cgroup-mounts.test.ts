// `tsrun check` and the cgroup manager must read the same cgroup2 mount as the planner: one a path
// lookup reaches. A hidden mount (cgroup2 bound over /sys/fs/cgroup hides /sys/fs/cgroup/unified and
// every v1 hierarchy below it) names a directory that is no longer that hierarchy.
import { describe, expect, it } from 'vitest';
import { findCgroupLayout } from '../../../src/check/cgroup-layout.js';
import { cgroup2MountContaining } from '../../../src/cgroups/mount.js';
import { parseMountInfo } from '../../../src/host/mountinfo.js';

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

describe('check: the cgroup layout from reachable mounts only', () => {
  it('cgroup2 bound over /sys/fs/cgroup: a pure v2 view at /sys/fs/cgroup (the v1 hierarchies are hidden)', () => {
    expect(findCgroupLayout(parseMountInfo(BOUND_OVER_SYS_FS_CGROUP))).toEqual({ layout: 'v2', v2MountPoint: '/sys/fs/cgroup', v1Hierarchies: [] });
  });

  it('the first cgroup2 mount covered by a tmpfs: the bind elsewhere is the one', () => {
    expect(findCgroupLayout(parseMountInfo(COVERED_AFTER_BIND)).v2MountPoint).toBe('/tmp/x/cg');
  });
});

describe('cgroup2MountContaining', () => {
  it('takes the reachable mount that holds the directory', () => {
    expect(cgroup2MountContaining(COVERED_AFTER_BIND, '/tmp/x/cg/tsrun/c1')).toBe('/tmp/x/cg');
    expect(cgroup2MountContaining(BOUND_OVER_SYS_FS_CGROUP, '/sys/fs/cgroup/tsrun/c1')).toBe('/sys/fs/cgroup');
  });

  it('never a hidden one, even when its mount point is the longer prefix', () => {
    expect(cgroup2MountContaining(BOUND_OVER_SYS_FS_CGROUP, '/sys/fs/cgroup/unified/tsrun/c1')).toBe('/sys/fs/cgroup');
  });

  it('undefined when no reachable cgroup2 mount holds it', () => {
    expect(cgroup2MountContaining(COVERED_AFTER_BIND, '/sys/fs/cgroup/tsrun/c1')).toBeUndefined();
  });
});
