// slirp4netns's command line, as podman gives it (--configure --mtu=65520 --disable-host-loopback),
// with the container's namespaces passed as inherited fds. Pure.

/** The fds the helper inherits: 3 its ready pipe, 4 the container's network namespace, 5 its user namespace. */
export const READY_FD = 3;
export const NETNS_FD = 4;
export const USERNS_FD = 5;
export const TAP_NAME = 'tap0';
/** slirp4netns's largest MTU: fewer, larger segments through its user-space TCP stack (podman's choice). */
export const SLIRP_MTU = 65520;

/** The options that shape the container's network (also what --trace shows of the command line). */
export function slirpNetworkFlags(allowHostLoopback: boolean): string[] {
  return ['--configure', `--mtu=${SLIRP_MTU}`, ...(allowHostLoopback ? [] : ['--disable-host-loopback'])];
}

export function slirpArgs(o: { allowHostLoopback: boolean; apiSocket: string }): string[] {
  return [
    ...slirpNetworkFlags(o.allowHostLoopback),
    `--api-socket=${o.apiSocket}`, `--ready-fd=${READY_FD}`,
    '--netns-type=path', `--userns-path=/proc/self/fd/${USERNS_FD}`, `/proc/self/fd/${NETNS_FD}`, TAP_NAME,
  ];
}

/**
 * The gate the helper is started through: a shell that execs slirp4netns (same pid, same start
 * time) only once tsrun has recorded that pid and says go on its stdin. A tsrun killed before then
 * closes that pipe, and the shell exits without starting anything: no helper is ever unrecorded.
 */
export const GATE = ['/bin/sh', '-c', 'read -r go && [ "$go" = go ] || exit 97; exec "$0" "$@" </dev/null'];
