// hostCapabilities(): what this host offers containers, as data a test can branch on (skip rather
// than fail: `it.skipIf(!caps.cgroup.controllers.memory)`). The same facts and probes as
// `tsrun check` (src/check/), read into a typed object instead of a report for people.
import { buildReport, gatherHostFacts, type HostFacts } from '../check/index.js';
import { probeCgroups } from '../check/cgroups.js';
import type { CgroupLayout } from '../check/cgroup-layout.js';
import { NAMESPACE_TYPES, probeNamespaces, type NamespaceType } from '../check/namespaces.js';
import { probeOverlay } from '../check/overlay.js';
import { probePrivileges } from '../check/privileges.js';
import { probeSeccomp } from '../check/seccomp.js';

/** The cgroup v2 controllers behind linux.resources (and the spec's `limits`). */
export const LIMIT_CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuset', 'io', 'hugetlb'] as const;
export type LimitController = (typeof LIMIT_CONTROLLERS)[number];

export interface HostCapabilities {
  kernel: string;
  /** tsrun can start a container here at all; `blockers` says why not. */
  canRunContainers: boolean;
  blockers: string[];
  /** Root with CAP_SYS_ADMIN in the initial user namespace (what privileged CI runners give). */
  privileged: boolean;
  /** Each namespace type: the kernel has it and its max_*_namespaces limit is not 0. */
  namespaces: Record<NamespaceType, boolean>;
  userNamespaces: {
    available: boolean;
    /** A user without capabilities may create one that can mount (rootless containers). */
    unprivileged: boolean;
  };
  cgroup: {
    layout: CgroupLayout;
    /** Where cgroup v2 is mounted (undefined: no cgroup v2). */
    v2MountPoint?: string;
    /** Controllers of the v2 root, the ones a container's cgroup can be given: every one, as listed. */
    available: string[];
    /** For each limit: can it be applied here (its controller is in cgroup v2, not held by v1)? */
    controllers: Record<LimitController, boolean>;
  };
  overlay: {
    available: boolean;
    /** Overlay mounts with `userxattr` (5.11): needed for image layers inside a user namespace. */
    userxattr: boolean;
  };
  seccomp: boolean;
}

/** A pure function of the host's facts (tests feed captured ones). */
export function capabilitiesFromFacts(facts: HostFacts): HostCapabilities {
  const report = buildReport(facts);
  const ns = probeNamespaces(facts);
  const priv = probePrivileges({ euid: facts.euid, status: facts.status, capLastCap: facts.capLastCap, uidMap: facts.uidMap });
  const cgroups = probeCgroups({ mountinfo: facts.mountinfo, v2Controllers: facts.v2Controllers, procCgroups: facts.procCgroups, kernelRelease: facts.kernelRelease });
  const overlay = probeOverlay({ filesystems: facts.filesystems, kernelRelease: facts.kernelRelease, initialUserNamespace: priv.initialUserNamespace });
  const status = (name: string): string | undefined => overlay.find((i) => i.name === name)?.status;
  const available = cgroups.layout.v2MountPoint === undefined ? [] : cgroups.v2Controllers;
  const namespaces = Object.fromEntries(NAMESPACE_TYPES.map((t) => [t, ns.creatable[t]])) as Record<NamespaceType, boolean>;
  return {
    kernel: facts.kernelRelease,
    canRunContainers: report.canRunContainers,
    blockers: report.blockers,
    privileged: priv.privileged,
    namespaces,
    userNamespaces: { available: ns.creatable.user, unprivileged: ns.unprivilegedUserns },
    cgroup: {
      layout: cgroups.layout.layout,
      ...(cgroups.layout.v2MountPoint !== undefined ? { v2MountPoint: cgroups.layout.v2MountPoint } : {}),
      available,
      controllers: Object.fromEntries(LIMIT_CONTROLLERS.map((c) => [c, available.includes(c)])) as Record<LimitController, boolean>,
    },
    // userxattr's item is `ok` where it is supported; `warn`/`missing` where the kernel lacks it.
    overlay: { available: status('overlayfs') === 'ok', userxattr: status('userxattr') === 'ok' },
    seccomp: probeSeccomp({ status: facts.status, actionsAvail: facts.seccompActions }).find((i) => i.name === 'seccomp')?.status === 'ok',
  };
}

/** What this host offers containers (reads /proc and the cgroup v2 root; no root needed, nothing written). */
export async function hostCapabilities(): Promise<HostCapabilities> {
  return capabilitiesFromFacts(await gatherHostFacts());
}
