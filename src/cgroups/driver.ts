// Who makes a container's cgroup. The cgroupfs driver is tsrun's own: it makes the directory and writes
// the limits before the process exists, which is born inside. The systemd driver (--systemd-cgroup,
// runc's option) asks systemd for a transient scope made with the process and then writes the limits
// (systemd/scope.ts says in which order). Both plan the same limits; the container code sees one
// CgroupHandle either way (`bornInside` tells how the process gets in).
//
// The systemd driver is a D-Bus client: it is loaded only when asked for, so it stays out of every
// other command and out of the startup snapshot (src/cli/snapshot-main.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../oci/types.js';
import { applyCgroup, loadCgroup, type ApplyOptions, type CgroupHandle, type CgroupWriteObserver } from './manager.js';
import { planCgroup } from './plan.js';
import type { CgroupHost, CgroupPlan } from './types.js';

export interface CgroupDriver {
  readonly name: 'cgroupfs' | 'systemd';
  /** Everything decided, nothing created; a limit the host cannot apply is refused here. */
  plan(spec: Spec, id: string, host: CgroupHost): CgroupPlan;
  /** cgroupfs: makes the cgroup now. systemd: a handle whose place(pid) makes the scope with the process. */
  apply(plan: CgroupPlan, observe?: CgroupWriteObserver, opts?: ApplyOptions): CgroupHandle;
}

export const cgroupfsDriver: CgroupDriver = {
  name: 'cgroupfs',
  plan: (spec, id, host) => planCgroup(spec, id, host),
  apply: applyCgroup,
};

/**
 * The driver for a create: cgroupfs, or with `systemd` the systemd driver, connected to systemd
 * (so that a host without it is refused before anything is made).
 */
export async function cgroupDriver(systemd: boolean | undefined): Promise<CgroupDriver> {
  if (!systemd) return cgroupfsDriver;
  return (await import('./systemd/index.js')).systemdDriver();
}

/** What a container's record says about its cgroup (state/store.ts ContainerRecord). */
export interface CgroupRef {
  cgroupDir?: string;
  cgroupOwnedRoot?: string;
  /** Made by systemd: its scope unit. */
  cgroupSystemdUnit?: string;
}

/**
 * The handle of a container's cgroup for `delete`: undefined when it has none left. A systemd scope
 * always has one, since systemd may still hold the unit (a failed scope) after the cgroup is gone.
 */
export async function loadContainerCgroup(ref: CgroupRef): Promise<CgroupHandle | undefined> {
  if (ref.cgroupDir === undefined) return undefined;
  if (ref.cgroupSystemdUnit) return (await import('./systemd/index.js')).loadScope(ref.cgroupDir, ref.cgroupSystemdUnit);
  return existsSync(join(ref.cgroupDir, 'cgroup.procs')) ? loadCgroup(ref.cgroupDir, ref.cgroupOwnedRoot) : undefined;
}
