// The namespaces of a running container, joined through its init's /proc entries: what `exec` and
// the hooks that run inside the container enter. Pure.
import { NAMESPACE_FLAGS, NAMESPACE_PROC_FILES } from '../abi/namespaces.js';
import type { NamespacePlan } from '../abi/steps.js';
import type { Spec } from '../oci/types.js';

/** Every namespace the container has (created or joined), the user namespace first. */
export function joinNamespaces(config: Spec, initPid: number): NamespacePlan[] {
  const types = (config.linux?.namespaces ?? []).map((n) => n.type);
  const joins = types.map((type): NamespacePlan => ({ type, flag: NAMESPACE_FLAGS[type], action: 'join', path: `/proc/${initPid}/ns/${NAMESPACE_PROC_FILES[type]}` }));
  // It decides which capabilities the other joins are checked against.
  return joins.sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
}

/** The container shares the caller's mount namespace: its root is a chroot, not a namespace's root. */
export function sharesCallerMountNamespace(config: Spec): boolean {
  return !(config.linux?.namespaces ?? []).some((n) => n.type === 'mount');
}
