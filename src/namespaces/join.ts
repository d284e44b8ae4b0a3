// The namespaces of a running container, joined through its init's /proc entries: what `exec` and
// the hooks that run inside the container enter. Pure.
import { NAMESPACE_FLAGS, NAMESPACE_PROC_FILES, type NamespaceType } from '../abi/namespaces.js';
import type { NamespacePlan } from '../abi/steps.js';
import type { Spec } from '../oci/types.js';

/** Every namespace the container has (created or joined): a time namespace first, then the user namespace. */
export function joinNamespaces(config: Spec, initPid: number): NamespacePlan[] {
  const types = (config.linux?.namespaces ?? []).map((n) => n.type);
  const joins = types.map((type): NamespacePlan => ({ type, flag: NAMESPACE_FLAGS[type], action: 'join', path: `/proc/${initPid}/ns/${NAMESPACE_PROC_FILES[type]}` }));
  // A time namespace first: tsrun makes it (tsrun-init's first stage, before the user namespace
  // exists), so the user namespace it belongs to is tsrun's, and joining it needs tsrun's
  // CAP_SYS_ADMIN, which setns into the container's user namespace gives up. Then the user namespace,
  // which decides what the other joins are checked against.
  const rank = (t: NamespaceType): number => (t === 'time' ? 0 : t === 'user' ? 1 : 2);
  return joins.sort((a, b) => rank(a.type) - rank(b.type));
}

/**
 * A process that joins the container's namespaces is born in its cgroup (clone3 CLONE_INTO_CGROUP),
 * unless it joins a cgroup namespace of the container: then the kernel refuses that clone from
 * outside the namespace when cgroup2 is mounted with nsdelegate (systemd's default): ENOENT, a
 * delegation boundary. Such a process is placed by tsrun through cgroup.procs from the host's cgroup
 * namespace while it waits (runc does that for every exec).
 */
export function joinsCgroupNamespace(config: Spec): boolean {
  return (config.linux?.namespaces ?? []).some((n) => n.type === 'cgroup');
}

/** The container shares the caller's mount namespace: its root is a chroot, not a namespace's root. */
export function sharesCallerMountNamespace(config: Spec): boolean {
  return !(config.linux?.namespaces ?? []).some((n) => n.type === 'mount');
}
