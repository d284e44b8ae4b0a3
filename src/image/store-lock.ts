// The image store's lock: an exclusive flock on the store directory itself, taken by everything
// that adds to the store or takes from it — `image import`, `image rm`, `image prune`, `image unpack`,
// and a container's start from an image (find or import it, then record that the container uses its
// layers). Without it a prune could delete a layer an import had just unpacked but not yet recorded,
// or the layers of an image a container was about to mount.
//
// One exclusive lock rather than shared/exclusive: readers (`image ls`, `inspect`) need none (every
// record is replaced by rename), and the writers are short except an import that unpacks, which a
// `run --image` then waits for. The kernel drops the lock if tsrun dies, so a crash never leaves the
// store locked. flock(2) locks belong to an open file description: a second lock taken by the same
// process on the store waits for the first, so functions that run under the lock call each other's
// `…WithLockHeld` variants, never the locking ones.
import { mkdirSync, readdirSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { acquireFlock, type HeldFlock } from '../native/flock.js';
import { removeShiftedTree } from './remove-shifted.js';

export interface StoreLockOptions {
  /** Make the store directory if missing (import). Otherwise a missing store runs `fn` unlocked: there is nothing in it to protect. */
  create?: boolean;
}

export async function withStoreLock<T>(storeDir: string, fn: () => Promise<T> | T, opts: StoreLockOptions = {}): Promise<T> {
  if (opts.create) mkdirSync(storeDir, { recursive: true, mode: 0o700 });
  let lock: HeldFlock;
  try {
    lock = await acquireFlock({ path: storeDir, kind: 'dir' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !opts.create) return fn();
    if (e instanceof TsrunError) throw e;
    throw new TsrunError(`cannot open the image store ${storeDir} to lock it: ${code ?? (e as Error).message}`, { file: storeDir, ...(code ? { errno: code } : {}) });
  }
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/**
 * Removes every scratch dir under `<store>/tmp` (a partial layer, an inflated archive, a layer being
 * deleted). The caller holds the store lock, and every maker of a scratch dir holds that lock for
 * the dir's whole life (imports, `run --image` importing, prune): whatever is there now belongs to a
 * process that died holding it. Its pid, in the dir's name, proves nothing either way: the kernel
 * reuses pids, and a dead importer's may belong to any process by now. A user's may hold files
 * of its subordinate ids (killed after the chowns): those go in its user namespace.
 */
export async function removeDeadScratch(storeDir: string): Promise<void> {
  let names: string[];
  try { names = readdirSync(`${storeDir}/tmp`); } catch { return; }
  for (const n of names) await removeShiftedTree(`${storeDir}/tmp/${n}`);
}
