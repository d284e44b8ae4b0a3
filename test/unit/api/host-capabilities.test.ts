import { describe, expect, it } from 'vitest';
import { capabilitiesFromFacts } from '../../../src/api/host-capabilities.js';
import { thisHostFacts } from '../check/host-facts-samples.js';
import {
  FILESYSTEMS_NO_OVERLAY, MOUNTINFO_NO_CGROUPS, MOUNTINFO_V2, ROOTLESS_UID_MAP, STATUS_NO_SECCOMP, STATUS_USER, V2_CONTROLLERS,
} from '../check/samples.js';

describe('capabilitiesFromFacts', () => {
  it('this hybrid host: every namespace, cgroup v2 with hugetlb only, overlay with userxattr, privileged', () => {
    const caps = capabilitiesFromFacts(thisHostFacts());
    expect(caps.canRunContainers).toBe(true);
    expect(caps.privileged).toBe(true);
    expect(caps.namespaces).toEqual({ mnt: true, pid: true, net: true, ipc: true, uts: true, user: true, cgroup: true, time: true });
    expect(caps.userNamespaces).toEqual({ available: true, unprivileged: true });
    expect(caps.cgroup.layout).toBe('hybrid');
    expect(caps.cgroup.available).toEqual(['hugetlb']);
    expect(caps.cgroup.controllers).toEqual({ memory: false, pids: false, cpu: false, cpuset: false, io: false, hugetlb: true });
    expect(caps.overlay).toEqual({ available: true, userxattr: true });
    expect(caps.seccomp).toBe(true);
  });

  it('a pure cgroup v2 host offers every limit', () => {
    const caps = capabilitiesFromFacts(thisHostFacts({ mountinfo: MOUNTINFO_V2, v2Controllers: V2_CONTROLLERS }));
    expect(caps.cgroup.layout).toBe('v2');
    expect(Object.values(caps.cgroup.controllers).every(Boolean)).toBe(true);
    expect(caps.cgroup.v2MountPoint).toBe('/sys/fs/cgroup');
  });

  it('what is missing reads as false: no cgroups, no overlay, no seccomp, user namespaces off, old kernel without userxattr', () => {
    const caps = capabilitiesFromFacts(thisHostFacts({
      kernelRelease: '5.10.0', mountinfo: MOUNTINFO_NO_CGROUPS, v2Controllers: undefined, filesystems: FILESYSTEMS_NO_OVERLAY, status: STATUS_NO_SECCOMP,
      maxNamespaces: { user: '0\n', time: '0\n' },
    }));
    expect(caps.cgroup).toEqual({ layout: 'none', available: [], controllers: { memory: false, pids: false, cpu: false, cpuset: false, io: false, hugetlb: false } });
    expect(caps.overlay).toEqual({ available: false, userxattr: false });
    expect(caps.seccomp).toBe(false);
    expect(caps.namespaces.user).toBe(false);
    expect(caps.namespaces.time).toBe(false);
    expect(caps.userNamespaces).toEqual({ available: false, unprivileged: false });
    expect(capabilitiesFromFacts(thisHostFacts({ kernelRelease: '5.10.0' })).overlay).toEqual({ available: true, userxattr: false });
  });

  it('an unprivileged user without user namespaces cannot run containers, and says why', () => {
    const caps = capabilitiesFromFacts(thisHostFacts({ euid: 1000, status: STATUS_USER, uidMap: ROOTLESS_UID_MAP, unprivilegedUsernsClone: '0\n' }));
    expect(caps.privileged).toBe(false);
    expect(caps.userNamespaces.unprivileged).toBe(false);
    expect(caps.canRunContainers).toBe(false);
    expect(caps.blockers.join(' ')).toMatch(/not root/);
  });
});
