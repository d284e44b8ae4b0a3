// Waiting for the library's children (containers' inits, exec'd processes) without a thread and
// without one SIGCHLD listener each: 50 concurrent runs would be 50 listeners (Node warns past 10),
// each calling waitpid for every SIGCHLD. One listener serves every pid this module watches; the
// table is keyed by pid, and a pid cannot be reused before this module reaps it.
import { isMainThread } from 'node:worker_threads';
import * as shim from '../native/shim.js';
import { decodeWaitStatus } from '../native/errno.js';
import { signalName } from '../process/signal-names.js';
import type { ExitStatus } from './types.js';

interface Watched {
  resolve: (s: ExitStatus) => void;
  reject: (e: unknown) => void;
}

const watched = new Map<number, Watched>();
let listening = false;
let held = 0;
// SIGCHLDs coalesce and a signal listener keeps no loop alive: while someone awaits an exit
// (`hold`), this timer both keeps Node running and looks again now and then. A worker thread gets
// no signals at all (vitest --pool=threads): there the timer is the only way, so it looks more often.
let timer: ReturnType<typeof setInterval> | undefined;
const POLL_MS = isMainThread ? 200 : 10;

function toStatus(raw: number): ExitStatus {
  const s = decodeWaitStatus(raw);
  return s.signal !== undefined ? { exitCode: 128 + s.signal, signal: signalName(s.signal) } : { exitCode: s.exitCode ?? 0 };
}

function checkAll(): void {
  for (const [pid, w] of watched) {
    let raw: number | undefined;
    try {
      raw = shim.waitPidNohang(pid);
    } catch (err) {
      watched.delete(pid);
      w.reject(err);
      continue;
    }
    if (raw === undefined) continue;
    watched.delete(pid);
    w.resolve(toStatus(raw));
  }
}

/** Resolves with the exit of child `pid` (reaped). Does not keep Node running by itself. */
export function watchExit(pid: number): Promise<ExitStatus> {
  const exited = new Promise<ExitStatus>((resolve, reject) => {
    // Installed once and kept: starting and stopping libuv's signal watcher for every container cost
    // ~0.1 ms each; a listener that finds nothing to reap costs one waitpid per SIGCHLD of this process.
    if (!listening) { listening = true; process.on('SIGCHLD', checkAll); }
    watched.set(pid, { resolve, reject });
  });
  // It may have exited already: its SIGCHLD came before the listener.
  checkAll();
  return exited;
}

/** Keeps Node running (and looks for exits every POLL_MS) until the returned release is called. */
export function hold(): () => void {
  if (held++ === 0) timer = setInterval(checkAll, POLL_MS);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--held === 0 && timer) { clearInterval(timer); timer = undefined; }
  };
}

/** Awaits `p` while holding Node open. */
export async function holding<T>(p: Promise<T>): Promise<T> {
  const release = hold();
  try { return await p; } finally { release(); }
}
