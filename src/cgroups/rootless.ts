// A container's cgroup when tsrun is not root. A user may only make cgroups where the cgroup tree is
// delegated to it (systemd's Delegate=yes on user@UID.service: the directory, its cgroup.procs and
// cgroup.subtree_control chowned to the user), and may only move a process between two cgroups when
// it can write cgroup.procs of their common ancestor — so the container's cgroup must be below the
// topmost delegated ancestor of tsrun's own cgroup. Three cases, decided before anything is made:
//   delegated:  the container gets <delegation root>/tsrun/<id>; limits work for the controllers the
//               delegation root has; subtree_control is written only at and below it.
//   none, no limit asked: the container runs in tsrun's own cgroup, without one of its own (runc does
//               the same for rootless containers).
//   none, a limit asked: refused, naming the field, why, and the fix.
import { accessSync, constants, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';
import { isInitialUserNamespace } from '../host/user-namespace.js';
import type { Spec } from '../oci/types.js';
import { CONVERTERS } from './controllers/index.js';
import { ownedRootOf, resolveCgroupPath, TSRUN_SUBTREE } from './path.js';
import { planCgroup } from './plan.js';
import type { CgroupHost, CgroupPlan } from './types.js';

export type Delegation =
  | { delegated: true; /** The topmost cgroup above tsrun's own that the user may write. */ root: string }
  | { delegated: false; /** Why nothing is: which cgroup is not writable. */ reason: string };

export interface DelegationFacts {
  mountPoint: string;
  /** tsrun's own cgroup v2 path ("0::PATH" of /proc/self/cgroup), relative to the hierarchy's root. */
  ownPath: string;
  euid: number;
  /** True when this user may write the cgroup directory and its cgroup.procs. */
  writable(dir: string): boolean;
}

/** The "0::" line of /proc/self/cgroup: this process's cgroup in the v2 hierarchy. */
export function ownCgroupPath(procSelfCgroup: string): string | undefined {
  const line = procSelfCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line === undefined ? undefined : line.slice(3).replace(/ \(deleted\)$/, '');
}

/** Walks up from tsrun's own cgroup while the user may write it. Pure over the facts. */
export function findDelegation(facts: DelegationFacts): Delegation {
  const own = posix.join(facts.mountPoint, facts.ownPath);
  if (!facts.writable(own)) {
    return { delegated: false, reason: `tsrun's own cgroup ${own} is not writable by uid ${facts.euid}` };
  }
  let root = own;
  while (root !== facts.mountPoint) {
    const parent = posix.dirname(root);
    if (!facts.writable(parent)) break;
    root = parent;
  }
  return { delegated: true, root };
}

export function hostDelegation(mountPoint: string, euid = process.geteuid?.() ?? 0): Delegation {
  let procCgroup: string;
  try { procCgroup = readFileSync('/proc/self/cgroup', 'utf8'); } catch { procCgroup = ''; }
  const ownPath = ownCgroupPath(procCgroup);
  if (ownPath === undefined) return { delegated: false, reason: '/proc/self/cgroup has no cgroup v2 ("0::") line' };
  const writable = (dir: string): boolean => {
    try {
      accessSync(dir, constants.W_OK);
      accessSync(posix.join(dir, 'cgroup.procs'), constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  return findDelegation({ mountPoint, ownPath, euid, writable });
}

const FIX = 'run tsrun as root, or have the cgroup tree delegated to this user (systemd: Delegate=yes, as user@UID.service has; by hand: chown a cgroup directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads to the user, and start tsrun from inside it)';

/**
 * The cgroup plan of a container made by a user other than root; undefined when it runs without a
 * cgroup of its own. A limit without a delegated tree is a ConfigError naming the field.
 */
export function planRootlessCgroup(spec: Spec, id: string, host: CgroupHost, delegation: Delegation, euid: number, warn: (m: string) => void): CgroupPlan | undefined {
  if (!delegation.delegated) {
    // Refused before the host's controllers are looked at: without delegation no limit could work.
    const limit = CONVERTERS.flatMap((convert) => convert(spec.linux?.resources ?? {}, 'linux.resources')).find((w) => w.optional !== true);
    if (limit) {
      throw new ConfigError(limit.field, `tsrun runs as uid ${euid}, not root, and no cgroup v2 subtree is delegated to it (${delegation.reason}), so no limit can be applied; ${FIX}`);
    }
    warnDevices(spec, euid, warn);
    return undefined;
  }
  // Under the delegation root's tsrun/ for default and relative paths.
  const where = rootlessPath(host.mountPoint, delegation.root, spec.linux?.cgroupsPath, id);
  const plan = planCgroup(spec, id, { ...host, controllers: delegatedControllers(delegation.root, host) }, where);
  warnDevices(spec, euid, warn);
  return { ...plan, deviceRules: null, delegationRoot: delegation.root };
}

/**
 * A user cannot load a device program (BPF needs CAP_SYS_ADMIN or CAP_BPF in the host's user
 * namespace); nor can it make device nodes: in its user namespace mknod of a device is EPERM.
 */
function warnDevices(spec: Spec, euid: number, warn: (m: string) => void): void {
  const ignored = devicesIgnored(spec, euid);
  if (ignored) warn(ignored);
}

/** The warning for a user's linux.resources.devices (also the systemd driver's, for a user's scope). */
export function devicesIgnored(spec: Spec, euid: number): string | undefined {
  if ((spec.linux?.resources?.devices ?? []).length === 0) return undefined;
  return `linux.resources.devices ignored: uid ${euid} cannot load a device program (BPF needs CAP_BPF or CAP_SYS_ADMIN on the host), and a user namespace cannot make device nodes anyway`;
}

function rootlessPath(mountPoint: string, root: string, cgroupsPath: string | undefined, id: string): { dir: string; ownedRoot: string } {
  if (cgroupsPath !== undefined && cgroupsPath.startsWith('/')) {
    const absolute = resolveCgroupPath(mountPoint, cgroupsPath, id);
    return { dir: absolute.dir, ownedRoot: ownedRootOf(mountPoint, absolute.dir) };
  }
  // Relative paths and the default, checked as tsrun's own subtree checks them, moved under the root.
  const asRoot = resolveCgroupPath(mountPoint, cgroupsPath, id);
  const rel = posix.relative(posix.join(mountPoint, TSRUN_SUBTREE), asRoot.dir);
  return { dir: posix.join(root, TSRUN_SUBTREE, rel), ownedRoot: posix.join(root, TSRUN_SUBTREE) };
}

/** The controllers a delegated root offers its children (its cgroup.controllers); the host's when unreadable. */
function delegatedControllers(root: string, host: CgroupHost): string[] {
  try {
    return readFileSync(posix.join(root, 'cgroup.controllers'), 'utf8').split(/\s+/).filter((c) => c !== '');
  } catch {
    return host.controllers;
  }
}

/** Who runs tsrun, for the cgroup choice: the host's root, or anyone else (a user, root of a user's namespace). */
export interface CgroupCaller { euid: number; initialUserNamespace: boolean }

export const thisCaller = (): CgroupCaller => ({ euid: process.geteuid?.() ?? 0, initialUserNamespace: isInitialUserNamespace() });
/** The host's root (every cgroup is its to make); anyone else gets only what is delegated. */
export const isHostRoot = (caller: CgroupCaller): boolean => caller.euid === 0 && caller.initialUserNamespace;

/**
 * The cgroup `run` makes for this caller, as `create` and `explain` both decide it: the host's root
 * plans with `rootPlan` (the cgroupfs or systemd driver); anyone else gets the rootless choice above
 * (undefined: no cgroup of its own). `rootPlan` undefined means the cgroupfs driver.
 */
export function planCgroupForCaller(spec: Spec, id: string, host: CgroupHost, warn: (m: string) => void,
  opts: { caller?: CgroupCaller; rootPlan?: (spec: Spec, id: string, host: CgroupHost) => CgroupPlan; delegation?: (mount: string, euid: number) => Delegation } = {}): CgroupPlan | undefined {
  const caller = opts.caller ?? thisCaller();
  const rootPlan = opts.rootPlan ?? ((s, i, h) => planCgroup(s, i, h));
  if (caller.euid === 0 && caller.initialUserNamespace) return rootPlan(spec, id, host);
  return planRootlessCgroup(spec, id, host, (opts.delegation ?? hostDelegation)(host.mountPoint, caller.euid), caller.euid, warn);
}
