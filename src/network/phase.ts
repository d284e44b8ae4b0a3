// The container's network as one phase of create, and its undo at delete: what create.ts and
// delete.ts call. `prepare` runs before anything is made (an unknown network, a bad -p, a missing
// slirp4netns is an error that leaves nothing); `attach` once the init exists and waits; `detach`
// from delete (for either kind of network: network.json says which).
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import * as shim from '../native/shim.js';
import { namespaceFds } from './connect.js';
import type { Spec } from '../oci/types.js';
import { realHost } from '../rootfs/host-view.js';
import type { HostView } from '../rootfs/plan.js';
import type { TraceSink } from '../process/trace.js';
import { attachNetwork, checkNetwork, detachNetwork } from './attach.js';
import { applyNetworkMode, type NetworkRequest, type PortMapping } from './options.js';
import type { NetworkRecord } from './record.js';
import { findNetwork, type StoredNetwork } from './store.js';
import { userModeProgram } from './user-mode/preflight.js';
import { startUserModeNetwork } from './user-mode/start.js';
import { RESOLV_CONF_PATH, withResolvConf } from './resolv-conf.js';
import { userModeResolvConf } from './user-mode/resolv-conf.js';
import { bridgeResolvConf, RESOLVED_UPSTREAM } from './cni/resolv-conf.js';
import { subnetsOf } from './subnet.js';

export type { NetworkRequest };

export interface PreparedNetwork {
  /** The spec with its network namespace as the mode asks. */
  spec: Spec;
  /** The CNI network to attach to (bridge mode only). */
  cni?: { network: StoredNetwork; ports: PortMapping[] };
  /** The user-mode network to start (slirp4netns mode): its program, found on PATH. */
  userMode?: { program: string; allowHostLoopback: boolean; ports: PortMapping[]; namespaces: NamespaceHold };
  /**
   * For planning: the host as the planner sees it once the files the spec binds in from the state dir
   * exist (the network's resolv.conf, written by beforeSpawn).
   */
  planOptions?: { host: HostView };
  /** Once the state dir exists, before the init is spawned: writes the files the spec binds in from it. */
  beforeSpawn?: () => void;
}

/**
 * The container's network and user namespaces as fds, taken by create's beforeGo (the init is still
 * dumpable: see namespaceFds) and given to slirp4netns at attach, or released when create fails.
 */
export interface NamespaceHold {
  fds?: { net: number; user: number };
  take(pid: number): void;
  release(): void;
}

function namespaceHold(): NamespaceHold {
  const hold: NamespaceHold = {
    take(pid) { hold.release(); hold.fds = namespaceFds({ pid }); },
    release() {
      if (!hold.fds) return;
      shim.closeFd(hold.fds.net);
      shim.closeFd(hold.fds.user);
      delete hold.fds;
    },
  };
  return hold;
}

function readText(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

/** The planner's view of the host, with `files` as the files they will be when the init mounts them. */
function withFiles(host: HostView, files: readonly string[]): HostView {
  return { ...host, kind: (path) => (files.includes(path) ? 'file' : host.kind(path)) };
}

/**
 * The network's resolv.conf (network/resolv-conf.ts), bound in from the state dir: the spec with its
 * mount, the planner's view of the host with the file there, and the write of the file once the
 * state dir exists (not at the go-ahead: without a user namespace the init runs its mounts at once).
 * Nothing when the config mounts /etc/resolv.conf itself, or without a state dir (explain).
 */
function resolvConfPart(spec: Spec, stateDir: string | undefined, content: () => string): Pick<PreparedNetwork, 'spec' | 'planOptions' | 'beforeSpawn'> {
  const dns = stateDir !== undefined ? withResolvConf(spec, stateDir, content()) : undefined;
  if (!dns) return { spec };
  const { file } = dns;
  const beforeSpawn = (): void => writeFileSync(file.path, file.content, { mode: 0o644, flag: 'wx' });
  return { spec: dns.spec, planOptions: { host: withFiles(realHost, [file.path]) }, beforeSpawn };
}

/**
 * `stateDir`: the container's state dir (it need not exist yet), where the network's resolv.conf
 * goes; without one (explain) the spec gets none.
 */
export function prepareNetwork(spec: Spec, req: NetworkRequest, stateDir?: string, euid = process.geteuid?.() ?? 0): PreparedNetwork {
  const withMode = applyNetworkMode(spec, req.mode, req.ports);
  if (req.mode.kind === 'slirp4netns') {
    const userMode = { program: userModeProgram(), allowHostLoopback: req.mode.allowHostLoopback, ports: req.ports, namespaces: namespaceHold() };
    return { ...resolvConfPart(withMode, stateDir, () => userModeResolvConf(readText(RESOLV_CONF_PATH))), userMode };
  }
  if (req.mode.kind !== 'bridge') return { spec: withMode };
  if (euid !== 0) {
    throw new ConfigError('--network', `bridge:${req.mode.network}: a CNI bridge needs root (its plugins make veth pairs and iptables rules in the host's namespace); as uid ${euid} use --network slirp4netns (a user-mode network; -p works with it)`);
  }
  const network = findNetwork(req.mode.network);
  const ipv6 = subnetsOf(network.list.plugins).some((s) => s.includes(':'));
  const content = (): string => bridgeResolvConf(readText(RESOLV_CONF_PATH), readText(RESOLVED_UPSTREAM), ipv6);
  return { ...resolvConfPart(withMode, stateDir, content), cni: { network, ports: req.ports } };
}

export async function attachPrepared(p: PreparedNetwork, o: { stateDir: string; containerId: string; pid: number; trace: TraceSink }): Promise<NetworkRecord | undefined> {
  if (p.userMode) {
    const { namespaces, ...rest } = p.userMode;
    // Taken now if beforeGo did not (a caller of create's own): root may enter any time.
    if (!namespaces.fds) namespaces.take(o.pid);
    try {
      return await startUserModeNetwork({ ...o, ...rest, namespaces: namespaces.fds! });
    } finally {
      namespaces.release();
    }
  }
  if (!p.cni) return undefined;
  return attachNetwork({ ...o, network: p.cni.network, ports: p.cni.ports });
}

export { checkNetwork, detachNetwork };
