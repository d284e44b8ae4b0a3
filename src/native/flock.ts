// The one flock(2) idiom of tsrun: open a directory (a container's state dir, the image store) or a
// lock file (one per layer), take an exclusive lock on it, run, close. The kernel drops the lock when
// the fd is closed or tsrun dies, so a crash never leaves anything locked.
//
// flock locks belong to an open file description: a second lock taken by the same process on the same
// path waits for the first. Code that already holds a lock must not take it again.
import { closeSync, openSync } from 'node:fs';
import { flockExclusive } from './shim.js';

export interface FlockTarget {
  /** A directory (opened read-only) or a lock file (made 0600 if missing). */
  path: string;
  kind: 'dir' | 'file';
}

export interface HeldFlock {
  /** Closes the fd, which drops the lock. Idempotent. */
  release(): void;
}

/**
 * Waits for an exclusive lock on `target` (the event loop keeps running meanwhile). An error opening
 * it is thrown as it came (an ErrnoException), for the caller to name what is missing.
 */
export async function acquireFlock(target: FlockTarget): Promise<HeldFlock> {
  const fd = target.kind === 'dir' ? openSync(target.path, 'r') : openSync(target.path, 'a', 0o600);
  try {
    await flockExclusive(fd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let held = true;
  return { release: () => { if (held) { held = false; closeSync(fd); } } };
}

/** Runs `fn` holding an exclusive lock on `target`. */
export async function withFlock<T>(target: FlockTarget, fn: () => Promise<T> | T): Promise<T> {
  const lock = await acquireFlock(target);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
