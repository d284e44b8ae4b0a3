// `--network` and `-p` as the CLI gives them, turned into what create needs: how the container's
// network namespace is made, and which CNI network and port mappings (if any) go with it. Pure.
import { ConfigError } from '../errors.js';
import type { Spec } from '../oci/types.js';

/** The network `--network bridge` (and `-p` alone) means: built in, no file needed (store.ts). */
export const DEFAULT_NETWORK = 'tsrun';

export type NetworkMode =
  | { kind: 'none' }
  | { kind: 'host' }
  | { kind: 'bridge'; network: string }
  | { kind: 'ns'; path: string }
  /** A new namespace with a user-mode network (rootless): slirp4netns, host loopback off unless asked. */
  | { kind: 'slirp4netns'; allowHostLoopback: boolean };

/** The user-mode network a user's `-p` alone means (as podman's rootless default). */
export const USER_MODE_NETWORK = 'slirp4netns';

/** `slirp4netns[:allow_host_loopback=true|false]`, as podman writes it. */
function parseSlirpMode(text: string): NetworkMode {
  let allowHostLoopback = false;
  const opts = text.slice('slirp4netns'.length).replace(/^:/, '');
  for (const opt of opts ? opts.split(',') : []) {
    const [k, v] = opt.split('=');
    if (k !== 'allow_host_loopback' || (v !== 'true' && v !== 'false')) {
      throw new ConfigError('--network', `${JSON.stringify(text)}: slirp4netns takes one option, allow_host_loopback=true|false (10.0.2.2 reaches the host's 127.0.0.1 when true)`);
    }
    allowHostLoopback = v === 'true';
  }
  return { kind: 'slirp4netns', allowHostLoopback };
}

/** One published port: the CNI `portMappings` entry the portmap plugin reads. */
export interface PortMapping { hostPort: number; containerPort: number; protocol: 'tcp' | 'udp'; hostIP?: string }

export function parseNetworkMode(text: string): NetworkMode {
  if (text === 'none' || text === 'host') return { kind: text };
  if (text === 'bridge') return { kind: 'bridge', network: DEFAULT_NETWORK };
  if (text.startsWith('bridge:') && text.length > 'bridge:'.length) return { kind: 'bridge', network: text.slice('bridge:'.length) };
  if (text.startsWith('ns:') && text.startsWith('ns:/')) return { kind: 'ns', path: text.slice(3) };
  if (text === 'slirp4netns' || text.startsWith('slirp4netns:')) return parseSlirpMode(text);
  throw new ConfigError('--network', `${JSON.stringify(text)}: expected none, host, bridge, bridge:NAME, slirp4netns[:allow_host_loopback=true] or ns:/PATH (a network namespace file)`);
}

const port = (s: string, what: string, spec: string): number => {
  const n = /^\d{1,5}$/.test(s) ? Number(s) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new ConfigError('-p', `${JSON.stringify(spec)}: ${what} must be a port from 1 to 65535`);
  return n;
};

/** `[HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]`, as docker and podman write it. */
export function parsePortMapping(spec: string): PortMapping {
  const [addr, proto = 'tcp', ...extra] = spec.split('/');
  if (extra.length > 0 || (proto !== 'tcp' && proto !== 'udp')) throw new ConfigError('-p', `${JSON.stringify(spec)}: the protocol is tcp or udp`);
  const parts = addr!.split(':');
  if (parts.length < 2 || parts.length > 3) throw new ConfigError('-p', `${JSON.stringify(spec)}: expected HOSTPORT:CTRPORT[/tcp|/udp] or HOSTIP:HOSTPORT:CTRPORT`);
  const hostIP = parts.length === 3 ? parts[0]! : undefined;
  if (hostIP !== undefined && !/^\d{1,3}(\.\d{1,3}){3}$/.test(hostIP)) throw new ConfigError('-p', `${JSON.stringify(spec)}: the host address must be IPv4`);
  return {
    hostPort: port(parts.at(-2)!, 'the host port', spec), containerPort: port(parts.at(-1)!, 'the container port', spec), protocol: proto,
    ...(hostIP ? { hostIP } : {}),
  };
}

/**
 * The spec with its network namespace as the mode asks: a new one (none, bridge), the host's (host:
 * no entry), or the file's (ns:PATH). Published ports need a CNI network to publish them.
 */
export function applyNetworkMode(spec: Spec, mode: NetworkMode, ports: readonly PortMapping[]): Spec {
  if (ports.length > 0 && mode.kind !== 'bridge' && mode.kind !== 'slirp4netns') {
    throw new ConfigError('-p', `publishing ports needs --network bridge[:NAME] (root) or slirp4netns (with --network ${mode.kind} the library's forwardPort reaches a port without one)`);
  }
  const others = (spec.linux?.namespaces ?? []).filter((n) => n.type !== 'network');
  const network = mode.kind === 'host' ? [] : mode.kind === 'ns' ? [{ type: 'network' as const, path: mode.path }] : [{ type: 'network' as const }];
  return { ...spec, linux: { ...spec.linux, namespaces: [...others, ...network] } };
}

/** What createContainer takes for `--network` and `-p` (or the library spec's `network` and `ports`). */
export interface NetworkRequest {
  mode: NetworkMode;
  ports: PortMapping[];
}

/**
 * The NetworkRequest of `network` (none, host, bridge[:NAME], slirp4netns, ns:/PATH) and `ports` (as
 * `-p`, or parsed); undefined when neither is given (the config's namespaces as they are). Ports
 * without a network mean the default bridge, as `-p` alone does; for a user (who cannot make a
 * bridge) the user-mode network, as podman does.
 */
export function networkRequestOf(spec: { network?: string; ports?: readonly (string | PortMapping)[] }, rootless = process.geteuid?.() !== 0): NetworkRequest | undefined {
  if (spec.network === undefined && !spec.ports?.length) return undefined;
  return {
    mode: parseNetworkMode(spec.network ?? (rootless ? USER_MODE_NETWORK : 'bridge')),
    ports: (spec.ports ?? []).map((p) => (typeof p === 'string' ? parsePortMapping(p) : { ...p })),
  };
}
