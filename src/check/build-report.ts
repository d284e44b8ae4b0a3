// Runs every probe over a set of host facts and decides the verdict: can tsrun start a container here?
import { probeCgroups } from './cgroups.js';
import type { HostFacts } from './host-facts.js';
import { probeKernel } from './kernel.js';
import { probeNamespaces, type NamespaceProbe } from './namespaces.js';
import { probeOverlay } from './overlay.js';
import { probePrivileges, type PrivilegeProbe } from './privileges.js';
import { probePty } from './pty.js';
import type { CheckReport } from './report.js';
import { probeSeccomp } from './seccomp.js';

/**
 * The only things tsrun cannot do without: a mount namespace (its own root filesystem), a PID namespace
 * (its own process tree), and either root or user namespaces (to be allowed to create them). Missing
 * cgroups, overlay, seccomp or ptys cost features, not the ability to run.
 */
export function findBlockers(ns: NamespaceProbe, priv: PrivilegeProbe): string[] {
  const blockers: string[] = [];
  if (!ns.creatable.mnt) blockers.push('mount namespaces cannot be created: a container cannot get its own root filesystem');
  if (!ns.creatable.pid) blockers.push('PID namespaces cannot be created: a container cannot get its own process tree');
  if (!priv.privileged && !ns.unprivilegedUserns) {
    blockers.push('not root (with CAP_SYS_ADMIN) and user namespaces are unavailable to this user: nothing may create namespaces or mount');
  }
  return blockers;
}

export function buildReport(facts: HostFacts): CheckReport {
  const ns = probeNamespaces(facts);
  const priv = probePrivileges({ euid: facts.euid, status: facts.status, capLastCap: facts.capLastCap, uidMap: facts.uidMap });
  const cgroups = probeCgroups({ mountinfo: facts.mountinfo, v2Controllers: facts.v2Controllers, procCgroups: facts.procCgroups, kernelRelease: facts.kernelRelease });
  const items = [
    ...probeKernel(facts.kernelRelease),
    ...ns.items,
    ...cgroups.items,
    ...probeOverlay({ filesystems: facts.filesystems, kernelRelease: facts.kernelRelease, initialUserNamespace: priv.initialUserNamespace }),
    ...priv.items,
    ...probePty({ ptmx: facts.ptmx, filesystems: facts.filesystems, mountinfo: facts.mountinfo }),
    ...probeSeccomp({ status: facts.status, actionsAvail: facts.seccompActions }),
  ];
  const blockers = findBlockers(ns, priv);
  return { kernel: facts.kernelRelease, items, canRunContainers: blockers.length === 0, blockers };
}
