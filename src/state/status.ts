// A container's status (runtime-spec "state"): derived each time from the kernel, never trusted from
// a file. The init is alive only if its pid exists, is not a zombie, and has the start time recorded
// at create (so a reused pid is not mistaken for it); the same goes for the tsrun process that is
// still creating a container.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startupSnapshot } from 'node:v8';
import * as shim from '../native/shim.js';
import type { ContainerRecord, Creator } from './store.js';

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

/** True if `pid` runs (not a zombie) and started at `startTime`: the same process, not a reuse of its pid. */
export function processAlive(pid: number, startTime: string): boolean {
  if (!(pid > 0)) return false;
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === startTime;
}

export function initAlive(record: ContainerRecord): boolean {
  return processAlive(record.pid, record.pidStartTime);
}

/**
 * The calling process as a record's creator. Read once per process (a library makes a record per
 * container; its start time never changes), never kept while the startup snapshot is built: a
 * command started from it could have the builder's pid and would take its start time for its own.
 */
export function thisProcess(): Creator {
  if (self?.pid === process.pid) return self;
  const me = { pid: process.pid, startTime: readProcStat(process.pid)?.startTime ?? '' };
  if (!startupSnapshot.isBuildingSnapshot() && me.startTime) self = me;
  return me;
}
let self: Creator | undefined;

/** The tsrun that is creating the container still runs. */
export function creatorAlive(record: ContainerRecord): boolean {
  return record.creator !== undefined && processAlive(record.creator.pid, record.creator.startTime);
}

/**
 * A record whose creator died before finishing (killed): what it made is left over, and the init,
 * if any, was never handed over (no device rules attached, no pid file). `delete` removes it all.
 */
export function abandoned(record: ContainerRecord): boolean {
  return record.creator !== undefined && !creatorAlive(record);
}

export function containerStatus(record: ContainerRecord, stateDir: string): Status {
  // runtime-spec's "creating": create has not finished. An abandoned create counts as stopped.
  if (record.creator) return creatorAlive(record) ? 'creating' : 'stopped';
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

/**
 * Sends each signal in turn to a recorded process (pid and start time), waiting up to `waitMs` after
 * each for its exit. Through a pidfd opened before the start time is checked: no signal can reach a
 * reuse of its pid. `send` replaces the signal to the pidfd (e.g. one to the process group). True
 * once it is gone, or was never that process; false if it still runs after the last wait.
 */
export async function signalUntilExit(
  p: { pid: number; startTime: string },
  steps: readonly { signal: number; waitMs: number }[],
  send?: (signal: number) => void,
): Promise<boolean> {
  const fd = shim.pidfdOpen(p.pid);
  if (fd === undefined) return true;
  try {
    if (!processAlive(p.pid, p.startTime)) return true;
    for (const { signal, waitMs } of steps) {
      try {
        if (send) send(signal); else shim.pidfdSendSignal(fd, signal);
      } catch {
        // Exited meanwhile: the wait below sees it at once.
      }
      if (await shim.pollReadable(fd, waitMs)) return true;
    }
    return false;
  } finally {
    shim.closeFd(fd);
  }
}
