// Finds the calling user's systemd manager as `--systemd-cgroup` would (src/cgroups/systemd/index.ts,
// connectManager): its private socket, then the session bus. Asks it only for two properties, each
// with a short timeout, and closes the connection: a bus that never answers costs `check` seconds,
// not a hang.
import { userInfo } from 'node:os';
import { posix } from 'node:path';
import { controllersOf } from '../cgroups/host.js';
import { BusConnection, type BusAddress } from '../cgroups/systemd/bus.js';
import { parseSystemdVersion, systemdBooted, userManagerAddresses } from '../cgroups/systemd/manager-api.js';
import type { Variant } from '../cgroups/systemd/wire.js';
import type { UserManagerProbe } from './user-systemd.js';

const ANSWER_MS = 3000;

async function managerProperties(address: BusAddress): Promise<{ controlGroup: string; version: number }> {
  const bus = BusConnection.open(address);
  try {
    const get = async (name: string): Promise<string> => {
      const reply = await bus.call({
        destination: 'org.freedesktop.systemd1', path: '/org/freedesktop/systemd1', interface: 'org.freedesktop.DBus.Properties',
        member: 'Get', signature: 'ss', body: ['org.freedesktop.systemd1.Manager', name],
      }, ANSWER_MS);
      return String((reply.body[0] as Variant).value);
    };
    const [controlGroup, version] = await Promise.all([get('ControlGroup'), get('Version')]);
    return { controlGroup: controlGroup === '' ? '/' : controlGroup, version: parseSystemdVersion(version) };
  } finally {
    bus.close();
  }
}

/** `v2Mount`: where the cgroup v2 hierarchy is mounted, to read the manager's cgroup.controllers. */
export async function probeUserManager(v2Mount: string | undefined, env: NodeJS.ProcessEnv = process.env, booted = systemdBooted()): Promise<UserManagerProbe> {
  if (!booted) return { kind: 'no-systemd' };
  const reasons: string[] = [];
  for (const address of userManagerAddresses(env)) {
    try {
      const { controlGroup, version } = await managerProperties(address);
      const controllers = v2Mount ? controllersOf(posix.join(v2Mount, controlGroup)) : [];
      return { kind: 'reachable', address: address.path, version, controlGroup, controllers };
    } catch (err) {
      const message = (err as Error).message;
      reasons.push(message.startsWith(address.path) ? message : `${address.path}: ${message}`);
    }
  }
  return { kind: 'unreachable', reasons };
}

/**
 * The user's login name, for the fix (`loginctl enable-linger NAME`). Inside a user namespace (rootless
 * podman) our passwd entry is root's: $USER then, as connectManager does.
 */
export function userName(hostUid: number, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (hostUid !== process.geteuid?.()) return env.USER || undefined;
  try { return userInfo().username; } catch { return undefined; }
}
