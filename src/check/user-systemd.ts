// Whether `--systemd-cgroup` can work for a user: its scope is made by the user's own systemd manager
// (user@UID.service, src/cgroups/systemd/user.ts), reached on $XDG_RUNTIME_DIR/systemd/private or the
// session bus, and its limits work only for the controllers the system's manager delegated to it.
// userSystemdItem is pure over what probeUserManager found.
import { item, withFacts, type CheckItem } from './report.js';

export type UserManagerProbe =
  /** systemd is not this host's init: no manager of any user runs. */
  | { kind: 'no-systemd' }
  /** Each address tried and why it failed; none tried when the environment names none. */
  | { kind: 'unreachable'; reasons: string[] }
  | { kind: 'reachable'; address: string; version: number; controlGroup: string; controllers: string[] };

const DELEGATE_FIX = 'as root, a drop-in for user@.service ([Service] Delegate=cpu cpuset io memory pids) and systemctl daemon-reload';

/** Only for a user (root's scopes are made by the system's manager). `uid`: the user's uid on the host. */
export function userSystemdItem(euid: number, uid: number, probe: UserManagerProbe, user?: string): CheckItem | undefined {
  if (euid === 0) return undefined;
  const unit = `user@${uid}.service`;
  if (probe.kind === 'no-systemd') {
    return withFacts(item('cgroups', 'user systemd', 'missing',
      `--systemd-cgroup cannot work: systemd is not this host's init (no /run/systemd/system), so there is no ${unit} to make the container's scope; without it, the delegation line says where containers go`,
      'leave out --systemd-cgroup (podman: --cgroup-manager cgroupfs)'),
    { manager: 'absent', unit });
  }
  if (probe.kind === 'unreachable') {
    const why = probe.reasons.length === 0 ? 'neither XDG_RUNTIME_DIR nor DBUS_SESSION_BUS_ADDRESS is set, so its bus cannot be found' : probe.reasons.join('; ');
    return withFacts(item('cgroups', 'user systemd', 'missing',
      `--systemd-cgroup cannot work: ${unit} is not reachable (${why})`,
      `the manager runs while ${user ?? `uid ${uid}`} has a login session, or always after \`loginctl enable-linger ${user ?? uid}\` (as root); XDG_RUNTIME_DIR must be its runtime directory (/run/user/${uid}); or leave out --systemd-cgroup`),
    { manager: 'unreachable', unit });
  }
  const facts = { manager: 'reachable', unit, address: probe.address, controlGroup: probe.controlGroup, controllers: probe.controllers, systemdVersion: probe.version };
  const where = `${unit} (systemd ${probe.version}) answers on ${probe.address}: --systemd-cgroup puts containers in scopes below ${probe.controlGroup}/user.slice`;
  if (probe.controllers.length === 0) {
    return withFacts(item('cgroups', 'user systemd', 'warn', `${where}, but no controller is delegated to it (its cgroup.controllers is empty): configs with linux.resources limits are refused`, DELEGATE_FIX), facts);
  }
  return withFacts(item('cgroups', 'user systemd', 'ok', `${where}; limits work for ${probe.controllers.join(', ')} (the controllers delegated to it)`), facts);
}
