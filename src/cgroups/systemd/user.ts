// --systemd-cgroup for a user (not the host's root): the scope is made by the user's own systemd
// manager (user@UID.service, the one `systemctl --user` talks to), as runc and crun do in rootless
// mode. What differs from root's:
//   where:       the scope's cgroup is below the manager's own (its ControlGroup property, e.g.
//                /user.slice/user-1000.slice/user@1000.service), in user.slice unless the path names a slice;
//   limits:      only for the controllers the system's manager delegated to user@UID.service (its
//                cgroup.controllers: Debian's default is "Delegate=pids memory cpu"); another limit is
//                refused naming the field, before anything is made, as the cgroupfs rootless path does;
//   controllers: tsrun enables none itself — the cgroups above the scope are the manager's, and it
//                enables what the scope's accounting properties ask for;
//   devices:     no device program (a user cannot load BPF): rules are ignored with a warning.
// Pure over its facts; src/cgroups/systemd/index.ts gathers them.
import { posix } from 'node:path';
import { ConfigError } from '../../errors.js';
import type { Spec } from '../../oci/types.js';
import { clientDefault } from '../client-defaults.js';
import { planCgroup } from '../plan.js';
import { devicesIgnored } from '../rootless.js';
import type { CgroupHost, CgroupPlan } from '../types.js';
import { resolveSystemdPath, USER_DEFAULT_SLICE } from './path.js';

export interface UserManagerFacts {
  /** The user's uid on the host. */
  uid: number;
  /** The manager's own cgroup, relative to the v2 hierarchy's root. */
  controlGroup: string;
  /** The controllers delegated to it: its cgroup's cgroup.controllers. */
  delegated: string[];
}

const DELEGATE_FIX = 'the host\'s root can delegate more with a drop-in for user@.service ([Service] Delegate=cpu cpuset io memory pids) and systemctl daemon-reload';

/** The plan of a container's scope in a user's manager, without the scope properties (index.ts adds them). */
export function planUserScope(spec: Spec, id: string, host: CgroupHost, manager: UserManagerFacts): { plan: CgroupPlan; unit: string; slice: string } {
  const path = resolveSystemdPath(spec.linux?.cgroupsPath, id, USER_DEFAULT_SLICE);
  const root = posix.join(host.mountPoint, manager.controlGroup);
  const dir = posix.join(root, path.cgroup);
  // Planned against the whole host first: a controller the host lacks is refused as for root.
  const whole = planCgroup(spec, id, host, { dir, ownedRoot: dir });
  const resources = spec.linux?.resources ?? {};
  const warnings = [...whole.warnings];
  const writes = whole.writes.filter((w) => {
    if (w.controller === 'cgroup' || manager.delegated.includes(w.controller)) return true;
    if (w.optional === true) return false;
    const restated = clientDefault(w, resources);
    if (restated !== undefined) {
      warnings.push(`${w.field} not applied: ${restated}, and the "${w.controller}" controller is not delegated to uid ${manager.uid}'s systemd manager`);
      return false;
    }
    throw new ConfigError(w.field, `needs the cgroup v2 "${w.controller}" controller, which is not delegated to uid ${manager.uid}'s systemd manager (user@${manager.uid}.service: ${posix.join(root, 'cgroup.controllers')} has ${manager.delegated.join(' ') || 'none'}); ${DELEGATE_FIX}`);
  });
  const ignored = devicesIgnored(spec, manager.uid);
  if (ignored) warnings.push(ignored);
  const controllers = whole.controllers.filter((c) => manager.delegated.includes(c));
  // delegationRoot = the scope: no subtree_control above it is tsrun's to write.
  const plan: CgroupPlan = { ...whole, writes, controllers, deviceRules: null, warnings, delegationRoot: dir };
  return { plan, unit: path.unit, slice: path.slice };
}

/** The error for a user whose manager cannot be reached: why, and what starts it. */
export function userManagerUnreachable(uid: number, user: string | undefined, reasons: string[]): string {
  const who = user ?? `the user with uid ${uid}`;
  const where = reasons.length === 0
    ? 'neither XDG_RUNTIME_DIR nor DBUS_SESSION_BUS_ADDRESS is set, so its bus cannot be found'
    : `its bus cannot be reached (${reasons.join('; ')})`;
  return `--systemd-cgroup: tsrun runs as uid ${uid}, so the container's scope is made by that user's own systemd manager (user@${uid}.service), but ${where}: `
    + `the manager runs while ${who} has a login session, or always after \`loginctl enable-linger ${user ?? uid}\` (as root); `
    + `XDG_RUNTIME_DIR must be its runtime directory (/run/user/${uid}); or leave out --systemd-cgroup`;
}
