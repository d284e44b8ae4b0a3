// `tsrun ps`: the processes of a container, from its cgroup (host pids); a rootless container
// without a cgroup of its own (cgroups/rootless.ts) from its PID namespace, or its init's descendants.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ContainerRecord } from '../state/store.js';
import { initAlive } from '../state/status.js';
import { withContainer } from '../state/with-container.js';
import { containerCgroup } from './pause.js';

export interface ContainerProcessInfo {
  pid: number;
  cmd: string;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

const link = (path: string): string | undefined => { try { return readlinkSync(path); } catch { return undefined; } };
const ppidOf = (pid: number): number | undefined => {
  try { return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]); } catch { return undefined; }
};

/** Without a cgroup: every process in the init's PID namespace when it has its own; else the init and its descendants. */
function pidsWithoutCgroup(record: ContainerRecord): number[] {
  if (!initAlive(record)) return [];
  const all = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  const ownPidNs = record.config.linux?.namespaces?.some((n) => n.type === 'pid' && !n.path) ?? false;
  const ns = link(`/proc/${record.pid}/ns/pid`);
  if (ownPidNs && ns !== undefined) return all.filter((p) => link(`/proc/${p}/ns/pid`) === ns);
  const found = new Set([record.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      const pp = ppidOf(p);
      if (!found.has(p) && pp !== undefined && found.has(pp)) { found.add(p); grew = true; }
    }
  }
  return [...found];
}

export function containerProcesses(root: string, id: string): Promise<ContainerProcessInfo[]> {
  return withContainer(root, id, 'ps', ({ record }) => {
    const pids = record.cgroupDir ? containerCgroup(record).pids() : pidsWithoutCgroup(record);
    return pids.sort((a, b) => a - b).map((pid) => ({ pid, cmd: cmdline(pid) }));
  });
}
