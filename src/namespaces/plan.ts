// linux.namespaces → clone flags (create) and setns joins (by path), plus the id maps the parent
// writes for a new user namespace. Pure.
import { ConfigError } from '../errors.js';
import type { Spec } from '../oci/types.js';
import { NAMESPACE_FLAGS } from '../abi/namespaces.js';
import type { IdMapPlan, NamespacePlan } from '../abi/steps.js';

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
