// linux.namespaces → clone flags (create) and setns joins (by path), plus the id maps the parent
// writes for a new user namespace and the steps that make the child its root. Pure.
import { ConfigError } from '../errors.js';
import type { Linux, Spec } from '../oci/types.js';
import { CLONE } from '../abi/linux.js';
import { NAMESPACE_FLAGS } from '../abi/namespaces.js';
import type { IdMapPlan, NamespacePlan, Step } from '../abi/steps.js';
import type { IdMapping } from '../oci/types.js';

export interface NamespaceSetup {
  namespaces: NamespacePlan[];
  cloneFlags: number;
  idMaps?: IdMapPlan;
  /** Steps of tsrun-init's first stage, before the container process exists (a new time namespace). */
  firstStage: Step[];
  /** The container process's own first steps, once it is in its cgroup (a new cgroup namespace). */
  early: Step[];
}

/**
 * A cgroup namespace's root is the cgroup its creator is in when it is made, for good
 * (cgroup_namespaces(7)). Made by the clone, it would be rooted wherever the clone happened: right
 * only when the process is born in its cgroup (clone3 CLONE_INTO_CGROUP), wrong (tsrun's own cgroup)
 * when it is placed later through cgroup.procs. So the container process unshares it itself, as its
 * first step after tsrun's go-ahead, which comes once it is in its cgroup either way.
 */
function cgroupNamespaceStep(index: number): Step {
  return { op: 'unshare', flags: CLONE.NEWCGROUP, names: ['CLONE_NEWCGROUP'], field: `linux.namespaces[${index}]`, why: 'a cgroup namespace rooted at the container\'s own cgroup, which this process is in by now: /proc/self/cgroup reads "/"' };
}

/** `monotonic 86400 0\nboottime …`: the records /proc/PID/timens_offsets takes, one a clock. */
export function timeOffsetsText(offsets: NonNullable<Linux['timeOffsets']>): string {
  return (['monotonic', 'boottime'] as const).filter((c) => offsets[c] !== undefined)
    .map((c) => `${c} ${offsets[c]!.secs ?? 0} ${offsets[c]!.nanosecs ?? 0}\n`).join('');
}

/**
 * A new time namespace is not made by the container process's clone: a process created in one
 * (CLONE_NEWTIME) is in it at once, and the offsets can be written only while no process is in it
 * (time_namespaces(7)). So tsrun-init's first stage (a single-threaded process in tsrun's namespaces,
 * never Node) makes it with unshare, which puts only its future children there, writes the offsets
 * through its own /proc/self/timens_offsets (they apply to that still empty namespace), and then
 * clones the container process, the namespace's first member (shim.c, stage1_main). As tsrun (host
 * root, in the initial user namespace) it may also when the container gets a user namespace of its own.
 */
function timeNamespaceSteps(spec: Spec, index: number): Step[] {
  const offsets = spec.linux?.timeOffsets;
  const text = offsets ? timeOffsetsText(offsets) : '';
  return [
    { op: 'unshare', flags: CLONE.NEWTIME, names: ['CLONE_NEWTIME'], beforeClone: true, field: `linux.namespaces[${index}]`, why: 'tsrun-init\'s first stage makes a time namespace for its children, still empty, so that its clock offsets can be written; the container process is cloned into it' },
    ...(text ? [{ op: 'writeFile' as const, path: '/proc/self/timens_offsets', content: text, beforeClone: true, field: 'linux.timeOffsets', why: 'the clock offsets, written by the first stage before any process is in the namespace (afterwards the kernel refuses them)' }] : []),
  ];
}

export function planNamespaces(spec: Spec, opts: { runningAsRoot: boolean; caller?: { uid: number; gid: number } }): NamespaceSetup {
  const list = spec.linux?.namespaces ?? [];
  const namespaces: NamespacePlan[] = list.map((ns) => (ns.path
    ? { type: ns.type, flag: NAMESPACE_FLAGS[ns.type], action: 'join' as const, path: ns.path }
    : { type: ns.type, flag: NAMESPACE_FLAGS[ns.type], action: 'create' as const }));
  // Without privilege every new namespace but a user one is EPERM from the clone, unless a user
  // namespace of the container's own (or one it joins) gives the privilege: say so before anything exists.
  const created = namespaces.filter((n) => n.action === 'create' && n.type !== 'user');
  if (!opts.runningAsRoot && created.length > 0 && !list.some((n) => n.type === 'user')) {
    const uid = opts.caller?.uid ?? process.geteuid?.() ?? 0;
    throw new ConfigError('linux.namespaces', `tsrun runs as uid ${uid}, not root: new ${created.map((n) => n.type).join(', ')} namespaces need a user namespace of the container's own ({"type": "user"} with linux.uidMappings and gidMappings of your ids); \`tsrun spec --rootless\` writes such a config`);
  }
  const newTime = list.findIndex((n) => n.type === 'time' && !n.path);
  if (spec.linux?.timeOffsets && Object.keys(spec.linux.timeOffsets).length > 0 && newTime < 0) {
    throw new ConfigError('linux.timeOffsets', 'needs a new time namespace ({"type": "time"} without a path in linux.namespaces): the offsets of a joined one are already set');
  }
  const firstStage = newTime >= 0 ? timeNamespaceSteps(spec, newTime) : [];
  const newCgroup = list.findIndex((n) => n.type === 'cgroup' && !n.path);
  const early = newCgroup >= 0 ? [cgroupNamespaceStep(newCgroup)] : [];
  // Join the user namespace first: it decides which capabilities the other joins are checked against;
  // a time namespace before it (one tsrun made belongs to tsrun's user namespace, see exec.ts joinPlan).
  const rank = (n: NamespacePlan): number => (n.action !== 'join' ? 2 : n.type === 'time' ? 0 : n.type === 'user' ? 1 : 2);
  namespaces.sort((a, b) => rank(a) - rank(b));
  // Time and cgroup namespaces are made by unshare steps (timeNamespaceSteps, cgroupNamespaceStep), never by the clone.
  const cloneFlags = namespaces.filter((n) => n.action === 'create' && n.type !== 'time' && n.type !== 'cgroup').reduce((acc, n) => acc | n.flag, 0);
  const newUser = namespaces.some((n) => n.type === 'user' && n.action === 'create');
  if (!newUser) return { namespaces, cloneFlags, firstStage, early };
  const uid = spec.linux?.uidMappings ?? [];
  const gid = spec.linux?.gidMappings ?? [];
  if (uid.length === 0) throw new ConfigError('linux.uidMappings', 'a new user namespace needs at least one uid mapping');
  if (gid.length === 0) throw new ConfigError('linux.gidMappings', 'a new user namespace needs at least one gid mapping');
  const writer = idMapWriter(uid, gid, opts);
  // Only a privileged writer may map several gids; tsrun writing the user's own gid must deny
  // setgroups first (newgidmap is privileged: setgroups stays allowed, as the container may need it).
  return { namespaces, cloneFlags, idMaps: { uid, gid, setgroups: writer === 'own-id' ? 'deny' : 'allow', writer }, firstStage, early };
}

/**
 * Root writes any map. A user may write one line mapping its own uid (gid) alone; anything else —
 * several ids, another host id — goes through newuidmap/newgidmap, which check /etc/subuid.
 */
export function idMapWriter(uid: IdMapping[], gid: IdMapping[], opts: { runningAsRoot: boolean; caller?: { uid: number; gid: number } }): IdMapPlan['writer'] {
  if (opts.runningAsRoot) return 'privileged';
  const caller = opts.caller ?? { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
  const own = (maps: IdMapping[], id: number): boolean => maps.length === 1 && maps[0]!.size === 1 && maps[0]!.hostID === id;
  return own(uid, caller.uid) && own(gid, caller.gid) ? 'own-id' : 'helper';
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

/**
 * runc and crun bring a new network namespace's loopback up: without it the container cannot reach
 * even its own 127.0.0.1. Run as namespace root (after the id switch), before anything can drop
 * CAP_NET_ADMIN; a joined namespace is someone else's to configure, so it gets no step.
 */
export function loopbackUpSteps(spec: Spec): Step[] {
  const index = (spec.linux?.namespaces ?? []).findIndex((n) => n.type === 'network' && !n.path);
  if (index < 0) return [];
  return [{ op: 'loopbackUp', field: `linux.namespaces[${index}]`, why: 'a new network namespace has one device, lo, and the kernel leaves it down: up, so the container reaches its own 127.0.0.1 (runc and crun do the same)' }];
}
