// One lock per layer (an exclusive flock on `<store>/locks/<diff-id hex>`), taken while a pull
// checks for a layer and, if the store lacks it, downloads and unpacks it. Two pulls that need the
// same layer share the work: the first downloads it, the second waits on the lock and then finds it
// in the store. The store's own lock (store-lock.ts) is not held meanwhile, so other commands (and
// pulls of other images) go on. Lock files are never deleted: a waiter would otherwise hold a lock
// on a file that a newcomer no longer sees. They are empty, one per layer ever pulled.
//
// A pull unpacks a layer in `<store>/partial/<diff-id hex>`, not in `<store>/tmp` (whose dirs belong
// to holders of the store lock, and whatever is there without one is removed as dead: store-lock.ts).
// The partial dir is made and removed only under the layer's lock, so one found by the next holder
// of that lock was left by a pull that died: it is removed then, or by `image prune`.
import { mkdirSync, readdirSync } from 'node:fs';
import { removeShiftedTree } from '../remove-shifted.js';
import { acquireFlock, type HeldFlock } from '../../native/flock.js';
import { digestHex } from '../digest-hex.js';

/** Waits for the lock of layer `diffId` (the event loop keeps running meanwhile). */
export async function lockLayer(storeDir: string, diffId: string): Promise<HeldFlock> {
  const dir = `${storeDir}/locks`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return acquireFlock({ path: `${dir}/${digestHex(diffId, 'diff_id')}`, kind: 'file' });
}

/** Where a pull unpacks layer `diffId` until it is complete (its lock held). */
export function partialDir(storeDir: string, diffId: string): string {
  return `${storeDir}/partial/${digestHex(diffId, 'diff_id')}`;
}

/**
 * Removes the partial dirs of pulls that died. Takes each one's layer lock first (a pull in progress
 * holds it while it downloads that layer, so this waits for it; the pull never waits for the store
 * lock while it holds a layer's). For `image prune`, which holds the store lock.
 */
export async function removeDeadPartials(storeDir: string): Promise<void> {
  let names: string[];
  try { names = readdirSync(`${storeDir}/partial`); } catch { return; }
  for (const hex of names.filter((n) => /^[a-f0-9]{64}$/.test(n))) {
    const lock = await lockLayer(storeDir, `sha256:${hex}`);
    try { await removeShiftedTree(`${storeDir}/partial/${hex}`); } finally { lock.release(); }
  }
}
