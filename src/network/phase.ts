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
import { RESOLV_CONF_PATH, withUserModeResolvConf } from './user-mode/resolv-conf.js';

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
   * exist (slirp4netns's resolv.conf, written by beforeSpawn).
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

function readHostResolvConf(): string | undefined {
  try { return readFileSync(RESOLV_CONF_PATH, 'utf8'); } catch { return undefined; }
}

/** The planner's view of the host, with `files` as the files they will be when the init mounts them. */
function withFiles(host: HostView, files: readonly string[]): HostView {
  return { ...host, kind: (path) => (files.includes(path) ? 'file' : host.kind(path)) };
}

/**
 * `stateDir`: the container's state dir (it need not exist yet), where a user-mode network's
 * resolv.conf goes; without one (explain) the spec gets none.
 */
export function prepareNetwork(spec: Spec, req: NetworkRequest, stateDir?: string, euid = process.geteuid?.() ?? 0): PreparedNetwork {
  const withMode = applyNetworkMode(spec, req.mode, req.ports);
  if (req.mode.kind === 'slirp4netns') {
    const dns = stateDir !== undefined ? withUserModeResolvConf(withMode, stateDir, readHostResolvConf()) : undefined;
    const userMode = { program: userModeProgram(), allowHostLoopback: req.mode.allowHostLoopback, ports: req.ports, namespaces: namespaceHold() };
    if (!dns) return { spec: withMode, userMode };
    // Not at the go-ahead: without a user namespace the init runs its steps (the mounts) at once.
    const { file } = dns;
    const beforeSpawn = (): void => writeFileSync(file.path, file.content, { mode: 0o644, flag: 'wx' });
    return { spec: dns.spec, userMode, planOptions: { host: withFiles(realHost, [file.path]) }, beforeSpawn };
  }
  if (req.mode.kind !== 'bridge') return { spec: withMode };
  if (euid !== 0) {
    throw new ConfigError('--network', `bridge:${req.mode.network}: a CNI bridge needs root (its plugins make veth pairs and iptables rules in the host's namespace); as uid ${euid} use --network slirp4netns (a user-mode network; -p works with it)`);
  }
  return { spec: withMode, cni: { network: findNetwork(req.mode.network), ports: req.ports } };
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
