import { describe, expect, it } from 'vitest';
import { parseMountInfo, parseMountInfoLine, unescapeMountPath } from '../../../src/host/mountinfo.js';
import { MOUNTINFO_HYBRID, MOUNTINFO_V1, MOUNTINFO_V2_BIND_FIRST } from '../check/samples.js';

describe('parseMountInfoLine', () => {
  it('splits the fields before and after the " - " separator', () => {
    const e = parseMountInfoLine('32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu');
    expect(e).toEqual({
      mountId: 32, parentId: 31, root: '/', mountPoint: '/sys/fs/cgroup/cpu', mountOptions: ['rw', 'relatime'],
      fsType: 'cgroup', source: 'cgroup', superOptions: ['rw', 'cpu'],
    });
  });

  it('skips any number of optional fields (shared:N master:M)', () => {
    const e = parseMountInfoLine('29 21 0:26 / /sys/fs/cgroup rw,nosuid shared:9 master:3 - cgroup2 cgroup2 rw,nsdelegate');
    expect(e?.fsType).toBe('cgroup2');
    expect(e?.superOptions).toEqual(['rw', 'nsdelegate']);
  });

  it('rejects a line without the separator', () => {
    expect(parseMountInfoLine('garbage line')).toBeUndefined();
  });
});

describe('unescapeMountPath', () => {
  it('decodes the octal escapes the kernel uses for space, tab, newline and backslash', () => {
    expect(unescapeMountPath('/run/my\\040cgroups\\011x\\012y\\134z')).toBe('/run/my cgroups\tx\ny\\z');
  });
});

describe('parseMountInfo', () => {
  it('reads every line of a captured table', () => {
    expect(parseMountInfo(MOUNTINFO_HYBRID)).toHaveLength(17);
    expect(parseMountInfo(MOUNTINFO_V1).filter((m) => m.fsType === 'cgroup')).toHaveLength(6);
  });

  it('unescapes mount points', () => {
    expect(parseMountInfo(MOUNTINFO_V2_BIND_FIRST)[1]?.mountPoint).toBe('/run/my cgroups');
  });
});
