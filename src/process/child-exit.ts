// Waiting for a child of tsrun (the container's init in a foreground run, an exec'd process) without a
// thread: SIGCHLD wakes Node's event loop (libuv turns signals into events), and a waitpid(WNOHANG)
// tells whether it was this child. A blocking waitpid would need libuv's thread pool, whose start
// (four threads, each with its own malloc arena) cost ~1 ms of every `tsrun run`.

import * as shim from '../native/shim.js';

/** Resolves with the wait status of child `pid` once it has exited (and is reaped). */
export function waitChild(pid: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let alive: ReturnType<typeof setInterval> | undefined;
    const check = (): boolean => {
      let status: number | undefined;
      try {
        status = shim.waitPidNohang(pid);
      } catch (err) {
        done();
        reject(err);
        return true;
      }
      if (status === undefined) return false;
      done();
      resolve(status);
      return true;
    };
    const onSigchld = (): void => void check();
    const done = (): void => {
      process.off('SIGCHLD', onSigchld);
      if (alive) clearInterval(alive);
    };
    // A process that has already exited needs no timer (the snapshot warm-up relies on it: a timer
    // armed while the snapshot is built leaves Node's timer list in a state later timers trip on).
    if (check()) return;
    process.on('SIGCHLD', onSigchld);
    // A signal listener does not keep Node's event loop alive; this timer does, until the child exits.
    alive = setInterval(() => {}, 2 ** 31 - 1);
    // It may have exited between the first look and the listener: its SIGCHLD is gone, not its zombie.
    check();
  });
}
