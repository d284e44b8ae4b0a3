// HostFacts for whole-report tests: this host as captured, and variations of it.
import type { HostFacts } from '../../../src/check/host-facts.js';
import { NAMESPACE_TYPES } from '../../../src/check/namespaces.js';
import {
  HYBRID_V2_CONTROLLERS, INITIAL_UID_MAP, MOUNTINFO_HYBRID, STATUS_THIS_HOST, THIS_HOST_FILESYSTEMS, THIS_HOST_NS, THIS_HOST_PROC_CGROUPS,
  THIS_HOST_SECCOMP_ACTIONS,
} from './samples.js';

export function thisHostFacts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    kernelRelease: '6.18.44-fc-v769',
    euid: 0,
    nsEntries: THIS_HOST_NS,
    maxNamespaces: Object.fromEntries(NAMESPACE_TYPES.map((t) => [t, '96364\n'])),
    mountinfo: MOUNTINFO_HYBRID,
    v2Controllers: HYBRID_V2_CONTROLLERS,
    procCgroups: THIS_HOST_PROC_CGROUPS,
    filesystems: THIS_HOST_FILESYSTEMS,
    status: STATUS_THIS_HOST,
    capLastCap: '40\n',
    uidMap: INITIAL_UID_MAP,
    ptmx: { kind: 'char', major: 5, minor: 2 },
    seccompActions: THIS_HOST_SECCOMP_ACTIONS,
    ...overrides,
  };
}
