// The container's /etc/resolv.conf on a user-mode network, as podman does for slirp4netns: the host's
// nameservers are not reachable from the container's namespace as they are (a loopback resolver such
// as 127.0.0.53 is the container's own lo there), but slirp4netns answers DNS on 10.0.2.3 and asks the
// host's resolvers for it. So the container gets a file of its own, made in its state dir (it goes
// with the state dir at delete) and bound read-only over /etc/resolv.conf: the image's file is never
// written, nor the host's. Pure: the host's file comes in as text.
import { posix } from 'node:path';
import type { Mount, Spec } from '../../oci/types.js';

/** slirp4netns's built-in DNS forwarder (libslirp's vnameserver with --configure's 10.0.2.0/24). */
export const SLIRP_DNS = '10.0.2.3';

/** The file's name in the container's state dir. */
export const RESOLV_CONF_FILE = 'resolv.conf';

export const RESOLV_CONF_PATH = '/etc/resolv.conf';

/**
 * The container's resolv.conf: slirp4netns's nameserver, then the host's `search`, `domain` and
 * `options` lines as they are (how names are completed and looked up does not depend on the network).
 * The host's nameserver and sortlist lines are left out: they name addresses of the host's network.
 */
export function userModeResolvConf(hostText: string | undefined): string {
  const kept = (hostText ?? '').split('\n').map((l) => l.trim()).filter((l) => /^(search|domain|options)\s/.test(l));
  return [`nameserver ${SLIRP_DNS}`, ...kept].join('\n') + '\n';
}

/**
 * The config already decides what /etc/resolv.conf is: a mount on it, or on a directory above it (a
 * bound /etc, where the mount point would be made in the host's directory). Then tsrun adds nothing.
 */
export function configOwnsResolvConf(spec: Spec): boolean {
  return (spec.mounts ?? []).some((m) => {
    const dest = posix.normalize(`/${m.destination}`);
    return dest === '/' || dest === RESOLV_CONF_PATH || RESOLV_CONF_PATH.startsWith(`${dest.replace(/\/$/, '')}/`);
  });
}

/**
 * The bind mount of `source` (the state dir's file) on /etc/resolv.conf. Read-only: the container's
 * writes would land in tsrun's state dir, on the host's /run (or the user's runtime dir), usually a
 * tmpfs it could fill.
 */
export function resolvConfMount(source: string): Mount {
  return { destination: RESOLV_CONF_PATH, type: 'bind', source, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] };
}

/** A file create writes in the state dir before the container's init runs, which its spec binds in. */
export interface StateFile { path: string; content: string }

/**
 * The spec with slirp4netns's resolv.conf bound in, and the file to write; undefined when the config
 * decides /etc/resolv.conf itself.
 */
export function withUserModeResolvConf(spec: Spec, stateDir: string, hostText: string | undefined): { spec: Spec; file: StateFile } | undefined {
  if (configOwnsResolvConf(spec)) return undefined;
  const path = posix.join(stateDir, RESOLV_CONF_FILE);
  return { spec: { ...spec, mounts: [...(spec.mounts ?? []), resolvConfMount(path)] }, file: { path, content: userModeResolvConf(hostText) } };
}
