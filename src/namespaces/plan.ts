// linux.namespaces → clone flags (create) and setns joins (by path), plus the id maps the parent
// writes for a new user namespace and the steps that make the child its root. Pure.
import { ConfigError } from '../errors.js';
import type { Spec } from '../oci/types.js';
import { NAMESPACE_FLAGS } from '../abi/namespaces.js';
import type { IdMapPlan, NamespacePlan, Step } from '../abi/steps.js';

export interface NamespaceSetup {
  namespaces: NamespacePlan[];
  cloneFlags: number;
  idMaps?: IdMapPlan;
}

export function planNamespaces(spec: Spec, opts: { runningAsRoot: boolean }): NamespaceSetup {
  const list = spec.linux?.namespaces ?? [];
  const namespaces: NamespacePlan[] = list.map((ns, i) => {
    if (ns.type === 'time') {
      throw new ConfigError(`linux.namespaces[${i}].type`, 'time namespaces are not supported by tsrun yet');
    }
    return ns.path
      ? { type: ns.type, flag: NAMESPACE_FLAGS[ns.type], action: 'join' as const, path: ns.path }
      : { type: ns.type, flag: NAMESPACE_FLAGS[ns.type], action: 'create' as const };
  });
  // Join the user namespace first: it decides which capabilities the other joins are checked against.
  namespaces.sort((a, b) => Number(b.type === 'user' && b.action === 'join') - Number(a.type === 'user' && a.action === 'join'));
  const cloneFlags = namespaces.filter((n) => n.action === 'create').reduce((acc, n) => acc | n.flag, 0);
  const newUser = namespaces.some((n) => n.type === 'user' && n.action === 'create');
  if (!newUser) return { namespaces, cloneFlags };
  const uid = spec.linux?.uidMappings ?? [];
  const gid = spec.linux?.gidMappings ?? [];
  if (uid.length === 0) throw new ConfigError('linux.uidMappings', 'a new user namespace needs at least one uid mapping');
  if (gid.length === 0) throw new ConfigError('linux.gidMappings', 'a new user namespace needs at least one gid mapping');
  // Only a privileged writer may map several gids; an unprivileged one must deny setgroups first.
  return { namespaces, cloneFlags, idMaps: { uid, gid, setgroups: opts.runningAsRoot ? 'allow' : 'deny' } };
}

/**
 * After clone(CLONE_NEWUSER) the child still has the host's ids, which mean nothing inside the new
 * namespace until the parent writes the maps; then it takes uid/gid 0 of the namespace, whose
 * capabilities make the rest of the set-up possible. No steps without a new user namespace.
 */
export function becomeNamespaceRootSteps(setup: NamespaceSetup): Step[] {
  if (!setup.idMaps) return [];
  return [
    { op: 'setresgid', gid: 0, field: 'linux.gidMappings', why: 'become gid 0 of the new user namespace (mapped by the parent)' },
    { op: 'setresuid', uid: 0, field: 'linux.uidMappings', why: 'become uid 0 of the new user namespace: full capabilities inside it, none outside' },
  ];
}
