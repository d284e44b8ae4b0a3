// `tsrun inspect ID`: what the kernel says about a running container, next to the host's view, so a
// learner can see which namespaces differ, where its cgroup is and what it uses, what it has mounted,
// how its ids are mapped and which capabilities it holds.
import { readFileSync, readlinkSync } from 'node:fs';
import { capabilityNames } from '../abi/capabilities.js';
import { parseMountInfo } from '../host/mountinfo.js';
import type { ContainerRecord } from '../state/store.js';
import type { Status } from '../state/status.js';
import { withContainer } from '../state/with-container.js';
import { containerCgroup } from './pause.js';
import { callsWithEffects, readNetworkRecord, summarize, type NetworkSummary } from '../network/record.js';
import type { PluginCall } from '../network/cni/types.js';

export interface NamespaceView { type: string; container: string; host: string; isolated: boolean }
export interface MountView {
  mountPoint: string;
  fsType: string;
  source: string;
  options: string;
  /** The directory of the filesystem mounted there (a bind mount's source inside its filesystem). */
  root: string;
  /** Propagation (mountinfo's optional fields): `shared:N`, `master:N`, both, or `private`; `unbindable`. */
  propagation: string;
}
export interface Inspection {
  id: string;
  pid: number;
  status: string;
  /** The host directory that is the container's `/` (the bundle's rootfs, or an image's overlay). */
  rootfs: string;
  namespaces: NamespaceView[];
  cgroup?: {
    /** The cgroup's directory on the host. */
    path: string;
    /** Its name in the hierarchy, as tsrun sees it (/proc/PID/cgroup from the host: `/tsrun/ID`). */
    hostView: string;
    /** What the container reads in its /proc/self/cgroup: `/` with a cgroup namespace of its own. */
    containerView: string;
    limits: Record<string, string>;
    stats: unknown;
  };
  mounts: MountView[];
  /** The interfaces of its network namespace (/proc/PID/net/dev), and its CNI network if it has one. */
  interfaces: string[];
  network?: NetworkSummary & { calls: (Omit<PluginCall, 'result'> & { effect: string })[] };
  uidMap: string[];
  gidMap: string[];
  capabilities: Record<'effective' | 'permitted' | 'inheritable' | 'bounding' | 'ambient', string[]>;
}

const NS_TYPES = ['pid', 'net', 'mnt', 'uts', 'ipc', 'user', 'cgroup', 'time'];
const LIMIT_FILES = ['memory.max', 'memory.high', 'memory.low', 'memory.swap.max', 'cpu.max', 'cpu.weight', 'cpuset.cpus', 'pids.max', 'io.max'];

const nsInode = (pid: number | 'self', type: string): string => {
  try { return readlinkSync(`/proc/${pid}/ns/${type}`); } catch { return '?'; }
};
const lines = (file: string): string[] => {
  try { return readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean); } catch { return []; }
};

function capabilities(pid: number): Inspection['capabilities'] {
  const status = Object.fromEntries(lines(`/proc/${pid}/status`).map((l) => l.split(':\t')).filter((p) => p.length === 2));
  const names = (key: string): string[] => capabilityNames(BigInt(`0x${status[key] ?? '0'}`));
  return { effective: names('CapEff'), permitted: names('CapPrm'), inheritable: names('CapInh'), bounding: names('CapBnd'), ambient: names('CapAmb') };
}

/** mountinfo's optional fields (between field 6 and the lone `-`): how a mount propagates. */
function propagationOf(line: string): string {
  const fields = line.trim().split(' ');
  const dash = fields.indexOf('-', 6);
  const tags = dash > 6 ? fields.slice(6, dash) : [];
  const kept = tags.filter((t) => /^(shared|master|propagate_from):\d+$/.test(t) || t === 'unbindable');
  return kept.length ? kept.join(' ') : 'private';
}

function mounts(pid: number): Inspection['mounts'] {
  let text = '';
  try { text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8'); } catch { /* the process is gone */ }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return parseMountInfo(text).map((m, i) => ({
    mountPoint: m.mountPoint, fsType: m.fsType, source: m.source, options: m.mountOptions.join(','), root: m.root, propagation: propagationOf(lines[i] ?? ''),
  }));
}

/** The `0::PATH` line of /proc/PID/cgroup: the process's cgroup v2, relative to the reader's cgroup namespace. */
function cgroupLine(pid: number | 'self'): string | undefined {
  return lines(`/proc/${pid}/cgroup`).find((l) => l.startsWith('0::'))?.slice(3);
}

export function inspectContainer(root: string, id: string): Promise<Inspection> {
  return withContainer(root, id, 'inspect', ({ store, record, status }) => inspectRecord(record, status, store.dir(id)));
}

function inspectRecord(record: ContainerRecord, status: Status, stateDir: string): Inspection {
  const { id, pid } = record;
  const namespaces = NS_TYPES.map((type) => {
    const container = nsInode(pid, type);
    const host = nsInode('self', type);
    return { type, container, host, isolated: container !== host };
  }).filter((n) => n.container !== '?');
  let cgroup: Inspection['cgroup'];
  if (record.cgroupDir) {
    const handle = containerCgroup(record);
    const limits: Record<string, string> = {};
    for (const file of LIMIT_FILES) {
      try { limits[file] = readFileSync(`${record.cgroupDir}/${file}`, 'utf8').trim(); } catch { /* controller not enabled */ }
    }
    const hostView = cgroupLine(pid) ?? '?';
    // A cgroup namespace made inside the container's cgroup has that cgroup as its root: the container
    // reads `/` (runc and tsrun create it after placing the process); without one it reads the host's path.
    const ownCgroupNs = namespaces.find((n) => n.type === 'cgroup')?.isolated === true;
    cgroup = { path: record.cgroupDir, hostView, containerView: ownCgroupNs ? '/' : hostView, limits, stats: handle.stats() };
  }
  const net = readNetworkRecord(stateDir);
  return {
    id, pid, status, rootfs: record.rootfs, namespaces, ...(cgroup ? { cgroup } : {}), mounts: mounts(pid),
    interfaces: lines(`/proc/${pid}/net/dev`).slice(2).map((l) => l.split(':')[0]!.trim()),
    ...(net ? { network: { ...summarize(net), calls: callsWithEffects(net) } } : {}),
    uidMap: lines(`/proc/${pid}/uid_map`), gidMap: lines(`/proc/${pid}/gid_map`), capabilities: capabilities(pid),
  };
}

export function formatInspection(i: Inspection): string {
  const out: string[] = [`container ${i.id}: init pid ${i.pid} (host), ${i.status}`, '', 'namespaces (inode inside vs tsrun\'s own):'];
  for (const n of i.namespaces) out.push(`  ${n.type.padEnd(7)} ${n.container.padEnd(22)} ${n.isolated ? 'isolated' : 'shared with the host'}  (host ${n.host})`);
  if (i.cgroup) {
    out.push('', `cgroup ${i.cgroup.path}`, `  seen by tsrun as ${i.cgroup.hostView}, by the container as ${i.cgroup.containerView}`);
    for (const [file, value] of Object.entries(i.cgroup.limits)) out.push(`  ${file.padEnd(16)} ${value}`);
    out.push(`  usage: ${JSON.stringify(i.cgroup.stats)}`);
  }
  out.push('', `mounts as the container sees them (its / is ${i.rootfs} on the host):`);
  for (const m of i.mounts) out.push(`  ${m.mountPoint.padEnd(28)} ${m.fsType.padEnd(9)} ${m.options.padEnd(34)} ${m.propagation}`);
  out.push('', `network interfaces: ${i.interfaces.join(' ') || '(none)'}`);
  if (i.network) {
    const n = i.network;
    out.push(`  ${n.helper ? 'user-mode' : 'CNI'} network ${n.network}: ${n.interface ?? '?'}${n.mac ? ` (${n.mac})` : ''} ${n.ips.map((ip) => `${ip.address}${ip.gateway ? ` via ${ip.gateway}` : ''}`).join(', ')}`);
    if (n.routes.length) out.push(`  routes: ${n.routes.map((r) => `${r.dst}${r.gw ? ` via ${r.gw}` : ''}`).join(', ')}`);
    if (n.ports.length) out.push(`  ports: ${n.ports.map((p) => `${p.hostIP ?? '0.0.0.0'}:${p.hostPort} -> ${p.containerPort}/${p.protocol}`).join(', ')}`);
    out.push(n.helper ? `  carried by ${n.helper.program} (pid ${n.helper.pid}), a process of the user's` : `  namespace pinned at ${n.netns}`);
    for (const c of n.calls) out.push(`  CNI ${c.command} ${c.plugin.padEnd(10)} ${c.durationMs.toFixed(1).padStart(7)} ms  ${c.outcome}${c.effect ? `: ${c.effect}` : ''}`);
  }
  out.push('', 'uid map (inside outside count):', ...i.uidMap.map((l) => `  ${l}`), 'gid map:', ...i.gidMap.map((l) => `  ${l}`));
  out.push('', 'capabilities:');
  // Long sets are wrapped, not one 600-column line.
  for (const [set, names] of Object.entries(i.capabilities)) {
    if (names.length === 0 || names.length >= 41) { out.push(`  ${set.padEnd(11)} ${names.length ? 'all' : '(none)'}`); continue; }
    let line = `  ${set.padEnd(11)}`;
    for (const name of names) {
      if (line.length + 1 + name.length > 100) { out.push(line); line = ' '.repeat(13); }
      line += ` ${name}`;
    }
    out.push(line);
  }
  return out.join('\n') + '\n';
}
