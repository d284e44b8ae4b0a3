// linux.namespaces → clone flags (create) and setns joins (by path), plus the id maps the parent
// writes for a new user namespace. Pure.
import { ConfigError } from '../errors.js';
import type { NamespaceType, Spec } from '../oci/types.js';
import { CLONE } from '../native/constants.js';
import type { IdMapPlan, NamespacePlan, Plan, Step } from '../plan/types.js';

export const NAMESPACE_FLAGS: Record<NamespaceType, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** What each namespace isolates, for `explain` and --trace. */
export const NAMESPACE_ISOLATES: Record<NamespaceType, string> = {
  pid: 'process ids: the container sees its own PID 1 and none of the host processes',
  network: 'network devices, addresses, routes, ports: only a fresh loopback',
  mount: 'the mount table: mounts made inside never appear on the host',
  ipc: 'System V IPC and POSIX message queues',
  uts: 'hostname and NIS domain name',
  user: 'uids, gids and capabilities: root inside maps to an ordinary id outside',
  cgroup: 'the view of /proc/self/cgroup and cgroupfs: the container cgroup looks like the root',
  time: 'CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets',
};

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
 * For a process placed in its cgroup by pid while it waits (systemd's scope; no clone3), not born in
 * it: the root of a new cgroup namespace is the cgroup its creator is in when it is made, so it is
 * made by the process itself after the go-ahead, once placed (runc does the same), not by clone().
 */
export function cgroupNamespaceAfterPlacement(plan: Plan): Plan {
  if (!(plan.cloneFlags & CLONE.NEWCGROUP)) return plan;
  const step: Step = {
    op: 'unshare', flags: CLONE.NEWCGROUP, type: 'cgroup', field: 'linux.namespaces',
    why: 'the cgroup namespace is made now that tsrun has placed the process in its cgroup, so that this cgroup is the root it sees (made by clone, its root would be tsrun\'s cgroup)',
  };
  return {
    ...plan,
    namespaces: plan.namespaces.filter((n) => !(n.type === 'cgroup' && n.action === 'create')),
    cloneFlags: plan.cloneFlags & ~CLONE.NEWCGROUP,
    steps: [step, ...plan.steps],
  };
}

/** The text written to /proc/PID/uid_map or gid_map: one "inside outside count" line a mapping. */
export function idMapText(maps: { containerID: number; hostID: number; size: number }[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}
