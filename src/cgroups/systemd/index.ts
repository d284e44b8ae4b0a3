// The systemd cgroup driver (--systemd-cgroup): entry points for src/cgroups/driver.ts, which loads this
// module only when a container uses it.
import { posix } from 'node:path';
import type { CgroupDriver } from '../driver.js';
import { CgroupError } from '../errors.js';
import type { CgroupHandle } from '../manager.js';
import { planCgroup } from '../plan.js';
import { BOOTED, SystemdManager, systemdBooted } from './manager-api.js';
import { resolveSystemdPath } from './path.js';
import { scopeProperties } from './properties.js';
import { ScopeHandle, type Connect } from './scope.js';

/** Connects to systemd (refusing a host without it, before anything is made) and returns the driver. */
export async function systemdDriver(): Promise<CgroupDriver> {
  if (!systemdBooted()) {
    throw new CgroupError(`--systemd-cgroup: systemd is not running as this host's init (no directory ${BOOTED}), so it cannot make the container's scope; leave out --systemd-cgroup`, { file: BOOTED });
  }
  let manager: SystemdManager | undefined;
  try {
    manager = await SystemdManager.connect();
  } catch (err) {
    throw new CgroupError(`--systemd-cgroup: ${(err as Error).message}`, { cause: err });
  }
  const version = await manager.version().catch(() => -1);
  // The first scope operation uses this connection; later ones (delete at the end of a run) open their own.
  let opened: SystemdManager | undefined = manager;
  const connect: Connect = async () => {
    const m = opened;
    opened = undefined;
    return m ?? connectOrExplain();
  };
  return {
    name: 'systemd',
    plan(spec, id, host) {
      const path = resolveSystemdPath(spec.linux?.cgroupsPath, id);
      const dir = posix.join(host.mountPoint, path.cgroup);
      const plan = planCgroup(spec, id, host, { dir, ownedRoot: dir });
      const scope = scopeProperties({ id, unit: path.unit, slice: path.slice, writes: plan.writes, systemdVersion: version });
      return { ...plan, writes: scope.writes, warnings: [...plan.warnings, ...scope.notes], systemd: { unit: path.unit, slice: path.slice, properties: scope.properties } };
    },
    apply(plan, observe, opts = {}) {
      if (!plan.systemd) throw new CgroupError('cgroup: the systemd driver was given a plan without a scope');
      return new ScopeHandle(plan.dir, plan.systemd.unit, connect, { plan: { ...plan, systemd: plan.systemd }, ...(observe ? { observe } : {}), opts });
    },
  };
}

/** The scope of an existing container (from its record), for delete. */
export function loadScope(dir: string, unit: string): CgroupHandle {
  return new ScopeHandle(dir, unit, connectOrExplain);
}

async function connectOrExplain(): Promise<SystemdManager> {
  try {
    return await SystemdManager.connect();
  } catch (err) {
    throw new CgroupError(`cgroup: the container's scope is systemd's, and ${(err as Error).message}`, { cause: err });
  }
}
