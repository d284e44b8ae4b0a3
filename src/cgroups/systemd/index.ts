// The systemd cgroup driver (--systemd-cgroup): entry points for src/cgroups/driver.ts, which loads this
// module only when a container uses it. The host's root talks to the system's manager; anyone else
// (a user, root of a user's namespace) to its own, user@UID.service (user.ts says what differs).
import { userInfo } from 'node:os';
import { posix } from 'node:path';
import type { CgroupDriver } from '../driver.js';
import { CgroupError } from '../errors.js';
import type { CgroupHandle } from '../manager.js';
import type { CgroupHost, CgroupPlan, FileWrite } from '../types.js';
import { controllersOf } from '../host.js';
import { planCgroup } from '../plan.js';
import { isHostRoot, thisCaller, type CgroupCaller } from '../rootless.js';
import type { Spec } from '../../oci/types.js';
import { ownHostUid } from './bus.js';
import { BOOTED, SystemdManager, systemdAddresses, systemdBooted, userManagerAddresses } from './manager-api.js';
import { resolveSystemdPath } from './path.js';
import { scopeProperties } from './properties.js';
import { ScopeHandle, type Connect } from './scope.js';
import { planUserScope, userManagerUnreachable } from './user.js';

/** Whose manager makes the scopes: the system's (the host's root) or the calling user's own. */
const isUser = (caller: CgroupCaller): boolean => !isHostRoot(caller);

/** Connects to systemd (refusing a host without it, before anything is made) and returns the driver. */
export async function systemdDriver(caller: CgroupCaller = thisCaller()): Promise<CgroupDriver> {
  if (!systemdBooted()) {
    throw new CgroupError(`--systemd-cgroup: systemd is not running as this host's init (no directory ${BOOTED}), so it cannot make the container's scope; leave out --systemd-cgroup`, { file: BOOTED });
  }
  const user = isUser(caller);
  let manager: SystemdManager | undefined;
  try {
    manager = await connectManager(user);
  } catch (err) {
    throw err instanceof CgroupError ? err : new CgroupError(`--systemd-cgroup: ${(err as Error).message}`, { cause: err });
  }
  const version = await manager.version().catch(() => -1);
  const uid = ownHostUid();
  // A user's scopes go below its manager's cgroup (user@UID.service's), found from the manager itself.
  const controlGroup = user ? await manager.controlGroup().catch(() => `/user.slice/user-${uid}.slice/user@${uid}.service`) : '/';
  // The first scope operation uses this connection; later ones (delete at the end of a run) open their own.
  let opened: SystemdManager | undefined = manager;
  const connect: Connect = async () => {
    const m = opened;
    opened = undefined;
    return m ?? connectOrExplain();
  };
  const planScope = (spec: Spec, id: string, host: CgroupHost): { plan: CgroupPlan; unit: string; slice: string } => {
    if (user) return planUserScope(spec, id, host, { uid, controlGroup, delegated: controllersOf(posix.join(host.mountPoint, controlGroup)) });
    const path = resolveSystemdPath(spec.linux?.cgroupsPath, id);
    const dir = posix.join(host.mountPoint, path.cgroup);
    return { plan: planCgroup(spec, id, host, { dir, ownedRoot: dir }), unit: path.unit, slice: path.slice };
  };
  return {
    name: 'systemd',
    plan(spec, id, host) {
      const { plan, unit, slice } = planScope(spec, id, host);
      const scope = scopeProperties({ id, unit, slice, writes: plan.writes, systemdVersion: version });
      return { ...plan, writes: scope.writes, warnings: [...plan.warnings, ...scope.notes], systemd: { unit, slice, properties: scope.properties } };
    },
    apply(plan, observe, opts = {}) {
      if (!plan.systemd) throw new CgroupError('cgroup: the systemd driver was given a plan without a scope');
      return new ScopeHandle(plan.dir, plan.systemd.unit, connect, { plan: { ...plan, systemd: plan.systemd }, ...(observe ? { observe } : {}), opts });
    },
  };
}

/**
 * `tsrun update` of a user's scope: planned as its create planned it (planUserScope), against the
 * controllers delegated to the user's manager — the scope's ancestor user@UID.service — so that an
 * undelegated limit is refused naming its field instead of failing at a write above the scope.
 * Undefined when `dir` is not below a user's manager (then the caller plans as for any cgroup).
 */
export function planUserScopeUpdate(spec: Spec, id: string, host: CgroupHost, dir: string): CgroupPlan | undefined {
  const manager = /^(\/.*\/user@\d+\.service)\//.exec(`/${posix.relative(host.mountPoint, dir)}`)?.[1];
  if (manager === undefined) return undefined;
  const { plan } = planUserScope(spec, id, host, { uid: ownHostUid(), controlGroup: manager, delegated: controllersOf(posix.join(host.mountPoint, manager)) });
  return { ...plan, dir, ownedRoot: dir, delegationRoot: dir };
}


/** The system's manager, or the user's own; a user's that cannot be reached says how to start it. */
export async function connectManager(user: boolean, env: NodeJS.ProcessEnv = process.env): Promise<SystemdManager> {
  if (!user) return SystemdManager.connect(systemdAddresses(env));
  const addresses = userManagerAddresses(env);
  const uid = ownHostUid();
  // Inside a user namespace (rootless podman) the passwd entry of our uid is root's: $USER, or the uid.
  const inNamespace = uid !== (process.geteuid?.() ?? 0);
  const name = inNamespace ? (env.USER || undefined) : (() => { try { return userInfo().username; } catch { return undefined; } })();
  if (addresses.length === 0) throw new CgroupError(userManagerUnreachable(uid, name, []), { field: 'XDG_RUNTIME_DIR' });
  try {
    return await SystemdManager.connect(addresses);
  } catch (err) {
    throw new CgroupError(userManagerUnreachable(uid, name, [(err as Error).message.replace(/^cannot reach systemd over D-Bus \((.*)\)$/, '$1')]), { cause: err });
  }
}

/** What a scope is made with that is not a limit: never changed by an update. */
const SCOPE_SETUP = new Set(['Description', 'Slice', 'Delegate', 'MemoryAccounting', 'CPUAccounting', 'IOAccounting', 'TasksAccounting', 'DefaultDependencies']);

/**
 * `tsrun update` of a container whose cgroup is a systemd scope: the limits become the scope's
 * properties (SetUnitProperties, as runc's update does), so a daemon-reload does not put the old ones
 * back; returns the writes as systemd rounds them (cpu.max), for the caller to write as at create.
 */
export async function updateScope(unit: string, id: string, writes: FileWrite[]): Promise<FileWrite[]> {
  const manager = await connectOrExplain();
  try {
    const version = await manager.version().catch(() => -1);
    // The slice only goes into the Slice property, which an update leaves alone.
    const scope = scopeProperties({ id, unit, slice: '', writes, systemdVersion: version });
    await manager.setUnitProperties(unit, scope.properties.filter(([name]) => !SCOPE_SETUP.has(name)));
    return scope.writes;
  } catch (err) {
    throw err instanceof CgroupError ? err : new CgroupError(`cgroup: systemd refused the new limits of ${unit}: ${(err as Error).message}`, { cause: err });
  } finally {
    manager.close();
  }
}

/** The scope of an existing container (from its record), for delete. */
export function loadScope(dir: string, unit: string): CgroupHandle {
  return new ScopeHandle(dir, unit, connectOrExplain);
}

async function connectOrExplain(): Promise<SystemdManager> {
  try {
    return await connectManager(isUser(thisCaller()));
  } catch (err) {
    if (err instanceof CgroupError) throw err;
    throw new CgroupError(`cgroup: the container's scope is systemd's, and ${(err as Error).message}`, { cause: err });
  }
}
