// A container's status (runtime-spec "state"): derived each time from the kernel, never trusted from
// a file. The init is alive only if its pid exists, is not a zombie, and has the start time recorded
// at create (so a reused pid is not mistaken for it).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRecord } from './store.js';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** Field 3 (state) and field 22 (starttime) of /proc/PID/stat, or undefined if there is no such pid. */
export function readProcStat(pid: number): { state: string; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: split after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

export function initAlive(record: ContainerRecord): boolean {
  const stat = readProcStat(record.pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === record.pidStartTime;
}

export function containerStatus(record: ContainerRecord, stateDir: string): Status {
  if (!initAlive(record)) return 'stopped';
  // Frozen wins: a created container can be paused too, and resumes to created (as runc).
  if (record.cgroupDir && isFrozen(record.cgroupDir)) return 'paused';
  if (!record.started && existsSync(join(stateDir, 'exec.fifo'))) return 'created';
  return 'running';
}

function isFrozen(cgroupDir: string): boolean {
  try {
    return readFileSync(join(cgroupDir, 'cgroup.freeze'), 'utf8').trim() === '1';
  } catch {
    return false;
  }
}
