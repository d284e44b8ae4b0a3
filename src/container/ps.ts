// `tsrun ps`: the processes of a container, from its cgroup (host pids).
import { readFileSync } from 'node:fs';
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

export function containerProcesses(root: string, id: string): Promise<ContainerProcessInfo[]> {
  return withContainer(root, id, 'ps', ({ record }) => containerCgroup(record).pids().sort((a, b) => a - b).map((pid) => ({ pid, cmd: cmdline(pid) })));
}
