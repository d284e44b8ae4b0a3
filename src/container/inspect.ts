// `tsrun inspect ID`: what the kernel says about a running container, next to the host's view, so a
// learner can see which namespaces differ, where its cgroup is and what it uses, what it has mounted,
// how its ids are mapped and which capabilities it holds.
import { readFileSync, readlinkSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { capabilityNames } from '../abi/capabilities.js';
import { parseMountInfo } from '../host/mountinfo.js';
import { StateStore } from '../state/store.js';
import { containerStatus } from '../state/status.js';
import { containerCgroup } from './pause.js';

export interface NamespaceView { type: string; container: string; host: string; isolated: boolean }
export interface Inspection {
  id: string;
  pid: number;
  status: string;
  namespaces: NamespaceView[];
  cgroup?: { path: string; limits: Record<string, string>; stats: unknown };
  mounts: { mountPoint: string; fsType: string; source: string; options: string }[];
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

function mounts(pid: number): Inspection['mounts'] {
  let text = '';
  try { text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8'); } catch { /* the process is gone */ }
  return parseMountInfo(text).map((m) => ({ mountPoint: m.mountPoint, fsType: m.fsType, source: m.source, options: m.mountOptions.join(',') }));
}

export function inspectContainer(root: string, id: string): Inspection {
  const store = new StateStore(root);
  const record = store.read(id);
  const status = containerStatus(record, store.dir(id));
  if (status === 'stopped') throw new TsrunError(`container ${id} is stopped: there is nothing left to inspect`);
  const pid = record.pid;
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
    cgroup = { path: record.cgroupDir, limits, stats: handle.stats() };
  }
  return {
    id, pid, status, namespaces, ...(cgroup ? { cgroup } : {}), mounts: mounts(pid),
    uidMap: lines(`/proc/${pid}/uid_map`), gidMap: lines(`/proc/${pid}/gid_map`), capabilities: capabilities(pid),
  };
}

export function formatInspection(i: Inspection): string {
  const out: string[] = [`container ${i.id}: init pid ${i.pid} (host), ${i.status}`, '', 'namespaces (inode inside vs tsrun\'s own):'];
  for (const n of i.namespaces) out.push(`  ${n.type.padEnd(7)} ${n.container.padEnd(22)} ${n.isolated ? 'isolated' : 'shared with the host'}  (host ${n.host})`);
  if (i.cgroup) {
    out.push('', `cgroup ${i.cgroup.path}`);
    for (const [file, value] of Object.entries(i.cgroup.limits)) out.push(`  ${file.padEnd(16)} ${value}`);
    out.push(`  usage: ${JSON.stringify(i.cgroup.stats)}`);
  }
  out.push('', 'mounts as the container sees them:');
  for (const m of i.mounts) out.push(`  ${m.mountPoint.padEnd(28)} ${m.fsType.padEnd(9)} ${m.options}`);
  out.push('', 'uid map (inside outside count):', ...i.uidMap.map((l) => `  ${l}`), 'gid map:', ...i.gidMap.map((l) => `  ${l}`));
  out.push('', 'capabilities:');
  for (const [set, names] of Object.entries(i.capabilities)) out.push(`  ${set.padEnd(11)} ${names.length === 41 ? 'all' : names.join(' ') || '(none)'}`);
  return out.join('\n') + '\n';
}
