// The container's /etc/resolv.conf on a network tsrun makes (slirp4netns, a CNI bridge), as podman
// does: the host's file names resolvers as the host reaches them (a loopback resolver such as
// 127.0.0.53 is the container's own lo in its namespace), so the container gets a file of its own,
// made in its state dir (it goes with the state dir at delete) and bound read-only over
// /etc/resolv.conf. The image's file is never written, nor the host's. Pure: files come in as text.
import { posix } from 'node:path';
import type { Mount, Spec } from '../oci/types.js';

/** The file's name in the container's state dir. */
export const RESOLV_CONF_FILE = 'resolv.conf';

export const RESOLV_CONF_PATH = '/etc/resolv.conf';

/**
 * The host's `search`, `domain` and `options` lines as they are: how names are completed and looked
 * up does not depend on the network. (Its nameserver and sortlist lines name the host's network.)
 */
export function lookupLines(hostText: string | undefined): string[] {
  return (hostText ?? '').split('\n').map((l) => l.trim()).filter((l) => /^(search|domain|options)\s/.test(l));
}

/** The addresses of a resolv.conf's `nameserver` lines, in order. */
export function nameserversOf(text: string | undefined): string[] {
  return (text ?? '').split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((a): a is string => a !== undefined);
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
 * The spec with a resolv.conf of `content` bound in from the state dir, and the file to write;
 * undefined when the config decides /etc/resolv.conf itself.
 */
export function withResolvConf(spec: Spec, stateDir: string, content: string): { spec: Spec; file: StateFile } | undefined {
  if (configOwnsResolvConf(spec)) return undefined;
  const path = posix.join(stateDir, RESOLV_CONF_FILE);
  return { spec: { ...spec, mounts: [...(spec.mounts ?? []), resolvConfMount(path)] }, file: { path, content } };
}
