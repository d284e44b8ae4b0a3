// A container on a CNI network: attach (pin the namespace, run ADD) at create, detach (DEL, unpin)
// at delete. Every plugin call is traced with what it did, and recorded in network.json.
import { readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TsrunError } from '../errors.js';
import { readProcStat, signalUntilExit } from '../state/status.js';
import type { TraceSink } from '../process/trace.js';
import { addNetworkList, checkNetworkList, delNetworkList, type InvokeOptions } from './cni/invoke.js';
import type { CniResult, PluginCall, RuntimeConf } from './cni/types.js';
import type { PortMapping } from './options.js';
import { mountIdAt, pinNetns, unpinNetns } from './pin.js';
import { callEffect, NETNS_PIN, NETWORK_FILE, isUserMode, readNetworkRecord, removeNetworkRecord, writeNetworkRecord, type CniRecord } from './record.js';
import { checkUserModeNetwork, stopUserModeNetwork } from './user-mode/stop.js';
import type { StoredNetwork } from './store.js';

/** What each standard plugin does, for a learner reading --trace. */
const PLUGIN_WHY: Record<string, string> = {
  bridge: 'makes the bridge if it is missing, a veth pair with one end in the container (renamed to the interface name) and the other on the bridge, gets an address from its ipam plugin (host-local: a lease file per address) and sets the default route; ipMasq adds the NAT rule for traffic leaving the subnet',
  portmap: 'publishes ports: DNAT rules from each host port to the container\'s address (iptables nat table, chains CNI-HOSTPORT-*)',
  firewall: 'lets traffic to and from the container through the FORWARD chain (CNI-FORWARD), whatever the host\'s policy is',
  tuning: 'sets sysctls and link settings of the container\'s interface',
  loopback: 'brings up lo',
  'host-local': 'hands out an address from a range, recorded in a lease file per address',
};

export interface AttachOptions {
  stateDir: string;
  containerId: string;
  /** The container's init, whose network namespace is attached. */
  pid: number;
  network: StoredNetwork;
  ports: readonly PortMapping[];
  trace: TraceSink;
  ifname?: string;
  invoke?: InvokeOptions;
}

function runtimeConf(r: CniRecord, netns: string): RuntimeConf {
  return { containerId: r.containerId, netns, ifname: r.ifname, ...(r.ports.length ? { capabilityArgs: { portMappings: r.ports } } : {}) };
}

function traceCall(trace: TraceSink, network: string, call: PluginCall, ports: readonly PortMapping[] = [], before?: CniResult): void {
  const got = callEffect(call, ports, before);
  trace.event({
    who: 'parent', group: 'network', title: `CNI ${call.command} ${call.plugin} (network ${network})${got}`,
    why: PLUGIN_WHY[call.plugin] ?? `a plugin of network ${network}`, result: call.outcome === 'ok' ? 'ok' : call.outcome, durationMs: call.durationMs,
  });
}

/**
 * Attaches the container to its network. The record comes first, then the pin, then ADD: a tsrun
 * killed anywhere in between leaves a record `delete` can undo. A failure undoes what was done (DEL
 * of every plugin, the pin, the record) and is thrown, naming the plugin.
 */
export async function attachNetwork(o: AttachOptions): Promise<CniRecord> {
  const record: CniRecord = {
    network: o.network.name, list: o.network.list, containerId: o.containerId, ifname: o.ifname ?? 'eth0',
    netns: join(o.stateDir, NETNS_PIN), hostNetns: ownNetns(), ports: [...o.ports], phase: 'adding', calls: [],
  };
  writeNetworkRecord(o.stateDir, record);
  try {
    const t0 = performance.now();
    await pinNetns(o.pid, record.netns);
    o.trace.event({
      who: 'parent', group: 'network', syscall: 'mount', title: `bind /proc/${o.pid}/ns/net on ${record.netns}`,
      why: 'the namespace stays until delete, even if the process dies first, so that CNI DEL can always find the interface and the NAT rules made for it', result: 'ok', durationMs: performance.now() - t0,
    });
    record.result = await addNetworkList(record.list, runtimeConf(record, record.netns), {
      ...o.invoke,
      onSpawn: (plugin, pid) => { record.running = { plugin, pid, startTime: readProcStat(pid)?.startTime ?? '' }; writeNetworkRecord(o.stateDir, record); },
      onCall: (call) => {
        delete record.running;
        traceCall(o.trace, record.network, call, record.ports, record.calls.at(-1)?.result);
        record.calls.push(call);
        // Each result as it comes: a DEL after a kill needs the addresses the plugins so far gave.
        writeNetworkRecord(o.stateDir, record);
        o.invoke?.onCall?.(call);
      },
    });
    record.phase = 'added';
    writeNetworkRecord(o.stateDir, record);
    return record;
  } catch (err) {
    // The plugins that ran are undone (DEL of all: each releases what it finds), then the pin and the
    // record, even if a DEL fails: the create is failing, its state directory goes.
    await detachNetwork(o.stateDir, { trace: o.trace, bestEffort: true, ...(o.invoke ? { invoke: o.invoke } : {}) }).catch(() => {});
    throw err;
  }
}

const ownNetns = (): string => readlinkSync('/proc/self/ns/net');

/** SIGKILLs the process group of a plugin whose tsrun was killed, and waits until its leader is gone. */
async function stopOrphanPlugin(p: NonNullable<CniRecord['running']>): Promise<void> {
  await signalUntilExit(p, [{ signal: 9, waitMs: 10_000 }], (signal) => process.kill(-p.pid, signal));
}

/**
 * The prevResult DEL gets: ADD's result, or when ADD never finished (a plugin failed, tsrun was
 * killed) the last result a plugin gave. Without it the firewall plugin, which finds its rules by
 * the container's addresses, would leave them.
 */
function resultForDel(r: CniRecord): CniResult | undefined {
  return r.result ?? r.calls.filter((c) => c.result).at(-1)?.result;
}

/**
 * CHECK of every plugin, in order, with the cached ADD result: each plugin verifies that what it made
 * is still there (the interface, the address, the rules). Only where ADD ran, on a finished ADD, with
 * the namespace still pinned; a list whose version has no CHECK (before 0.4.0) or that disables it is
 * 'skipped'. A plugin that finds something wrong is thrown, naming it.
 */
export async function checkNetwork(stateDir: string, o: { trace: TraceSink; invoke?: InvokeOptions }): Promise<'checked' | 'skipped'> {
  const record = readNetworkRecord(stateDir);
  if (!record) throw new TsrunError(`container ${basename(stateDir)} is not on a CNI network (no ${NETWORK_FILE} in its state directory)`);
  if (isUserMode(record)) return checkUserModeNetwork(record);
  if (record.phase !== 'added' || !record.result) throw new TsrunError(`container ${record.containerId}: its CNI ADD on network ${record.network} never finished (delete it)`);
  if (record.hostNetns && record.hostNetns !== ownNetns()) {
    throw new TsrunError(`container ${record.containerId}'s network was set up by a tsrun in network namespace ${record.hostNetns}, and this one runs in ${ownNetns()}: CHECK would look at this namespace's bridge and firewall; run it there (nsenter --net=…)`);
  }
  if (mountIdAt(record.netns) === undefined) throw new TsrunError(`container ${record.containerId}: its network namespace is no longer pinned at ${record.netns}`, { file: record.netns });
  return checkNetworkList(record.list, runtimeConf(record, record.netns), record.result, {
    ...o.invoke,
    onCall: (call) => { traceCall(o.trace, record.network, call); o.invoke?.onCall?.(call); },
  });
}

/**
 * Detaches a container from its network (a no-op without network.json): DEL of every plugin, last
 * first, with the cached result; then the pin and the record go. A DEL failure is thrown and keeps
 * the record, so that `delete` can be run again; with `bestEffort` (a failing create) the pin and the
 * record go anyway, and the failure is still thrown.
 */
export async function detachNetwork(stateDir: string, o: { trace: TraceSink; invoke?: InvokeOptions; bestEffort?: boolean; force?: boolean }): Promise<void> {
  const record = readNetworkRecord(stateDir);
  if (!record) return;
  if (isUserMode(record)) return stopUserModeNetwork(stateDir, record, o.trace);
  if (record.hostNetns && record.hostNetns !== ownNetns()) {
    // The plugins would change this namespace's bridge and firewall, not the ones they set up.
    const problem = `container ${record.containerId}'s network was set up by a tsrun in network namespace ${record.hostNetns}, and this one runs in ${ownNetns()}: its CNI DEL must run there (nsenter --net=…)`;
    if (!o.force) throw new TsrunError(`${problem}; with --force (when that namespace is gone) tsrun skips DEL and removes the rest`);
    o.trace.event({ who: 'parent', group: 'network', title: `CNI DEL skipped (network ${record.network})`, why: problem, result: 'skipped' });
    unpinNetns(record.netns);
    removeNetworkRecord(stateDir);
    return;
  }
  if (record.running) await stopOrphanPlugin(record.running);
  // Without the pin (killed before it was made) plugins get no namespace and release what they can by container id.
  const netns = mountIdAt(record.netns) !== undefined ? record.netns : '';
  try {
    await delNetworkList(record.list, runtimeConf(record, netns), resultForDel(record), {
      ...o.invoke,
      // As during ADD: a delete killed while a plugin runs leaves it running, and the next delete
      // must stop it before its own DEL (a finished one is found gone by its start time). A kill in
      // the instant between the spawn and this write leaves the plugin unrecorded: it then runs to
      // its end on its own, and DEL, which every plugin must accept twice, is simply run again.
      onSpawn: (plugin, pid) => { record.running = { plugin, pid, startTime: readProcStat(pid)?.startTime ?? '' }; writeNetworkRecord(stateDir, record); },
      onCall: (call) => { traceCall(o.trace, record.network, call); o.invoke?.onCall?.(call); },
    });
  } catch (err) {
    if (!o.bestEffort) throw err;
    unpinNetns(record.netns);
    removeNetworkRecord(stateDir);
    throw err;
  }
  unpinNetns(record.netns);
  removeNetworkRecord(stateDir);
}
