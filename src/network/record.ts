// What tsrun remembers of a container's CNI network, in `network.json` of its state directory. It is
// written *before* the namespace is pinned and before the first plugin runs, and rewritten after
// each step, so that a tsrun killed at any point leaves enough for `delete` to undo it: the exact
// list that ran (DEL must get the same configuration), the arguments, the pin, and the result once
// ADD has one (DEL's prevResult).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../state/atomic-file.js';
import type { CniResult, NetConfList, PluginCall } from './cni/types.js';
import type { PortMapping } from './options.js';

export const NETWORK_FILE = 'network.json';
export const NETNS_PIN = 'netns';

/** A container on a CNI network (older records have no `driver`). */
export interface CniRecord {
  driver?: 'cni';
  network: string;
  /** The configuration list as it was run. */
  list: NetConfList;
  containerId: string;
  ifname: string;
  /** The pinned namespace (CNI_NETNS). */
  netns: string;
  /**
   * The network namespace tsrun (and so the plugins) ran in: the bridge and the rules are there. DEL
   * must run there too, never in another namespace, whose firewall it would change.
   */
  hostNetns: string;
  ports: PortMapping[];
  /** `adding` until the whole ADD chain succeeded. */
  phase: 'adding' | 'added';
  result?: CniResult;
  calls: PluginCall[];
  /**
   * The plugin running now (its process group): a tsrun killed meanwhile leaves it running, and
   * `delete` must stop it before DEL, or it could go on adding after DEL removed everything.
   */
  running?: { plugin: string; pid: number; startTime: string };
}

/**
 * A container on a user-mode network (rootless): slirp4netns, a process of the user's, which
 * tsrun starts once the container's namespace exists and stops at delete. Written before the helper
 * may start (`starting`), again with its pid before it runs (user-mode/start.ts says how), and
 * once it is ready with its ports published (`started`).
 */
export interface UserModeRecord {
  driver: 'slirp4netns';
  network: 'slirp4netns';
  containerId: string;
  ifname: string;
  ports: PortMapping[];
  allowHostLoopback: boolean;
  phase: 'starting' | 'started';
  /** The helper process (its start time refuses a reused pid). */
  helper?: { pid: number; startTime: string };
  /** Its API socket and log, file names in the state directory. */
  apiSocket: string;
  log: string;
}

export type NetworkRecord = CniRecord | UserModeRecord;

export const isUserMode = (r: NetworkRecord): r is UserModeRecord => r.driver === 'slirp4netns';

/** What slirp4netns --configure gives every container: its fixed subnet (libslirp's default). */
export const SLIRP_ADDRESS = { address: '10.0.2.100/24', gateway: '10.0.2.2', dns: '10.0.2.3' };

export function readNetworkRecord(stateDir: string): NetworkRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, NETWORK_FILE), 'utf8')) as NetworkRecord;
  } catch {
    return undefined;
  }
}

export function writeNetworkRecord(stateDir: string, record: NetworkRecord): void {
  writeFileAtomic(join(stateDir, NETWORK_FILE), JSON.stringify(record), 0o600);
}

export function removeNetworkRecord(stateDir: string): void {
  rmSync(join(stateDir, NETWORK_FILE), { force: true });
}

/** The container's side of an ADD result: its interface, addresses and routes (for state and inspect). */
export interface NetworkSummary {
  network: string;
  interface?: string;
  mac?: string;
  ips: { address: string; gateway?: string }[];
  routes: { dst: string; gw?: string }[];
  ports: PortMapping[];
  /** The pinned namespace (CNI); '' for a user-mode network, which pins none. */
  netns: string;
  /** The user-mode network's process (slirp4netns), once recorded. */
  helper?: { program: 'slirp4netns'; pid: number };
}

export function summarize(r: NetworkRecord): NetworkSummary {
  if (isUserMode(r)) {
    return {
      network: r.network, interface: r.ifname, ips: [{ address: SLIRP_ADDRESS.address, gateway: SLIRP_ADDRESS.gateway }],
      routes: [{ dst: '0.0.0.0/0', gw: SLIRP_ADDRESS.gateway }], ports: r.ports, netns: '',
      ...(r.helper ? { helper: { program: r.driver, pid: r.helper.pid } } : {}),
    };
  }
  const res = r.result;
  const mine = res?.interfaces?.findIndex((i) => i.sandbox !== undefined && i.sandbox !== '') ?? -1;
  const iface = mine >= 0 ? res!.interfaces![mine] : undefined;
  const ips = (res?.ips ?? []).filter((ip) => ip.interface === undefined || ip.interface === mine || mine < 0)
    .map((ip) => ({ address: ip.address, ...(ip.gateway ? { gateway: ip.gateway } : {}) }));
  return {
    network: r.network, ...(iface ? { interface: iface.name } : { interface: r.ifname }), ...(iface?.mac ? { mac: iface.mac } : {}),
    ips, routes: res?.routes ?? [], ports: r.ports, netns: r.netns,
  };
}

/** One line of what an ADD result gave: `eth0 10.89.0.2/24 via 10.89.0.1`. */
export function resultLine(res: CniResult | undefined): string {
  if (!res) return '';
  const ifs = (res.interfaces ?? []).map((i, n) => `${i.name}${i.sandbox ? ' (container)' : ''}${(res.ips ?? []).filter((ip) => ip.interface === n).map((ip) => ` ${ip.address}${ip.gateway ? ` via ${ip.gateway}` : ''}`).join('')}`);
  const loose = (res.ips ?? []).filter((ip) => ip.interface === undefined).map((ip) => ip.address);
  return [...ifs, ...loose].join(', ');
}

/** What a call did, in its trace line: the addresses bridge-like plugins gave, the ports portmap published. */
export function callEffect(call: PluginCall, ports: readonly PortMapping[], before: CniResult | undefined): string {
  if (call.command !== 'ADD' || !call.result) return '';
  if (call.plugin === 'portmap' && ports.length > 0) {
    const ip = call.result.ips?.[0]?.address.split('/')[0] ?? '?';
    return `: ${ports.map((p) => `${p.hostIP ?? '0.0.0.0'}:${p.hostPort} -> ${ip}:${p.containerPort}/${p.protocol}`).join(', ')}`;
  }
  // A plugin that passed the previous result on unchanged (firewall, tuning) made no address.
  if (before && JSON.stringify(before) === JSON.stringify(call.result)) return '';
  return `: ${resultLine(call.result)}`;
}

/** Each plugin call of the record with what it did, as `--trace` said it (for inspect). */
export function callsWithEffects(r: NetworkRecord): (Omit<PluginCall, 'result'> & { effect: string })[] {
  if (isUserMode(r)) return [];
  return r.calls.map(({ result: _result, ...call }, i) => ({ ...call, effect: callEffect({ ...call, ...(_result ? { result: _result } : {}) }, r.ports, r.calls[i - 1]?.result).replace(/^: /, '') }));
}
