import { describe, expect, it } from 'vitest';
import { findCgroupMounts } from '../../../src/cgroups/mount.js';
import { resolveCgroupPath } from '../../../src/cgroups/path.js';
import { ConfigError } from '../../../src/errors.js';

/** This kind of machine: v1 controllers under /sys/fs/cgroup/*, cgroup2 at /sys/fs/cgroup/unified. */
export const HYBRID_MOUNTINFO = `22 1 259:1 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

/** A modern distribution: only cgroup2, at /sys/fs/cgroup, with optional fields before the "-". */
export const PURE_V2_MOUNTINFO = `24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('mountinfo', () => {
  it('finds cgroup2 at /sys/fs/cgroup/unified on a hybrid host', () => {
    expect(findCgroupMounts(HYBRID_MOUNTINFO)).toEqual({ v2: '/sys/fs/cgroup/unified', hasV1: true });
  });
  it('finds cgroup2 at /sys/fs/cgroup on a pure v2 host', () => {
    expect(findCgroupMounts(PURE_V2_MOUNTINFO)).toEqual({ v2: '/sys/fs/cgroup', hasV1: false });
  });
  it('reports no v2 mount on a legacy host', () => {
    expect(findCgroupMounts('32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n')).toEqual({ v2: undefined, hasV1: true });
  });
  it('prefers a mount of the whole hierarchy over an earlier bind mount of a subtree', () => {
    const text = `50 1 0:30 /tsrun/c1 /run/c1/cgroup rw - cgroup2 cgroup2 rw
35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw
`;
    expect(findCgroupMounts(text).v2).toBe('/sys/fs/cgroup');
  });
  it('finds a cgroup2 mount point with octal escapes, skipping malformed lines', () => {
    expect(findCgroupMounts('garbage\n35 24 0:30 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n')).toEqual({ v2: '/mnt/my cgroups', hasV1: false });
  });
});

describe('cgroupsPath', () => {
  const M = '/sys/fs/cgroup/unified';
  it('defaults to /tsrun/<id> under the v2 mount', () => {
    expect(resolveCgroupPath(M, undefined, 'web')).toEqual({ dir: `${M}/tsrun/web`, ownedRoot: `${M}/tsrun` });
    expect(resolveCgroupPath(M, '', 'web').dir).toBe(`${M}/tsrun/web`);
  });
  it('puts absolute paths relative to the v2 root, owning only the leaf', () => {
    expect(resolveCgroupPath(M, '/machines/web', 'x')).toEqual({ dir: `${M}/machines/web`, ownedRoot: `${M}/machines/web` });
    expect(resolveCgroupPath('/sys/fs/cgroup', '//a//b/', 'x').dir).toBe('/sys/fs/cgroup/a/b');
  });
  it('treats an absolute path inside /tsrun as tsrun\'s own subtree', () => {
    expect(resolveCgroupPath(M, '/tsrun/web', 'x')).toEqual({ dir: `${M}/tsrun/web`, ownedRoot: `${M}/tsrun` });
    expect(resolveCgroupPath(M, '/tsrunner/web', 'x').ownedRoot).toBe(`${M}/tsrunner/web`);
  });
  it('puts relative paths under /tsrun, never under the caller\'s cgroup', () => {
    expect(resolveCgroupPath(M, 'team/web', 'x')).toEqual({ dir: `${M}/tsrun/team/web`, ownedRoot: `${M}/tsrun` });
  });
  it('refuses .. and . components, the root itself, and systemd slice syntax', () => {
    for (const bad of ['/a/../../etc', '../x', 'a/./b', '/', 'system.slice:tsrun:web']) {
      expect(() => resolveCgroupPath(M, bad, 'x'), bad).toThrow(ConfigError);
    }
    expect(() => resolveCgroupPath(M, '/a/../b', 'x')).toThrow('linux.cgroupsPath: must not contain ".." components');
    expect(() => resolveCgroupPath(M, 'system.slice:tsrun:web', 'x')).toThrow(/slice:prefix:name" path: give tsrun --systemd-cgroup/);
  });
  it('refuses container ids that are not a single path component', () => {
    expect(() => resolveCgroupPath(M, undefined, '..')).toThrow(ConfigError);
  });
});
