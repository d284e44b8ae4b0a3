// Waiting for a process that is not tsrun's child (its parent was a `tsrun create` that has exited):
// a pidfd becomes readable when the process exits, so the wait is one poll(), never a sleep loop.
import * as shim from '../native/shim.js';

/** Resolves true once `pid` has exited, false if it is still alive after timeoutMs. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const fd = shim.pidfdOpen(pid);
  if (fd === undefined) return true;
  try {
    return await shim.pollReadable(fd, timeoutMs);
  } finally {
    shim.closeFd(fd);
  }
}
