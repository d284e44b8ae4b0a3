// A session's id names the test process it belongs to: `<pid>-<start time>-<random>`, the start time
// being field 22 of /proc/PID/stat. Whether a session is alive is then read from the kernel (as a
// container's status is, src/state/status.ts), with no record to keep or lock to hold: a reused pid
// has another start time. The random part tells two sessions of one process apart.
import { randomBytes } from 'node:crypto';
import { processAlive, thisProcess } from '../state/status.js';

/** The annotation a container of a session carries (config.json → state.json `annotations`). */
export const SESSION_ANNOTATION = 'run.tsrun.session';

const SESSION_ID = /^([1-9][0-9]{0,9})-([0-9]{1,20})-([0-9a-f]{8})$/;

export function newSessionId(): string {
  const me = thisProcess();
  return `${me.pid}-${me.startTime}-${randomBytes(4).toString('hex')}`;
}

export function isSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** True while the process that opened the session runs; false for anything that is not a session id. */
export function sessionAlive(id: string): boolean {
  const m = SESSION_ID.exec(id);
  return m !== null && processAlive(Number(m[1]), m[2]!);
}
