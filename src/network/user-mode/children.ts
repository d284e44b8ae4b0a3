// The helpers this tsrun process started and has not seen exit: their exit as Node reaps them. A
// delete in the same process (the end of a foreground `run`, the library's stop()) waits for that,
// so the helper is gone, not a zombie, when delete returns. A helper of another tsrun (create, then
// delete) was handed to init when that one exited, and init reaps it.
import type { ChildProcess } from 'node:child_process';

const helpers = new Map<number, { child: ChildProcess; exited: Promise<void> }>();

/** `exited`: the child's 'exit' event. The child is unref'd: a `create` must not wait for it. */
export function trackHelper(child: ChildProcess, exited: Promise<unknown>): void {
  const pid = child.pid!;
  helpers.set(pid, { child, exited: exited.then(() => { helpers.delete(pid); }) });
}

/** Resolves once Node has reaped `pid`, if it is a helper of this process; at once otherwise. */
export function helperReaped(pid: number): Promise<void> {
  const h = helpers.get(pid);
  if (!h) return Promise.resolve();
  // Referenced again while waiting: an unref'd child's exit would not keep the loop alive.
  h.child.ref();
  return h.exited;
}
