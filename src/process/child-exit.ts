// Waiting for a child of tsrun (the container's init in a foreground run, an exec'd process) without a
// thread: SIGCHLD wakes Node's event loop (libuv turns signals into events), and a waitpid(WNOHANG)
// tells whether it was this child. A blocking waitpid would need libuv's thread pool, whose start
// (four threads, each with its own malloc arena) cost ~1 ms of every `tsrun run`.

import * as shim from '../native/shim.js';

/** Resolves with the wait status of child `pid` once it has exited (and is reaped). */
export function waitChild(pid: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // A signal listener does not keep Node's event loop alive; this timer does, until the child exits.
    const alive = setInterval(() => {}, 2 ** 31 - 1);
    const done = (): void => {
      process.off('SIGCHLD', check);
      clearInterval(alive);
    };
    const check = (): void => {
      let status: number | undefined;
      try {
        status = shim.waitPidNohang(pid);
      } catch (err) {
        done();
        reject(err);
        return;
      }
      if (status === undefined) return;
      done();
      resolve(status);
    };
    process.on('SIGCHLD', check);
    // It may have exited before the handler was there: its SIGCHLD is gone, but not its zombie.
    check();
  });
}
