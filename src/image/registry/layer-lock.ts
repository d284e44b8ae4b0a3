// One lock per layer (an exclusive flock on `<store>/locks/<diff-id hex>`), taken while a pull
// checks for a layer and, if the store lacks it, downloads and unpacks it. Two pulls that need the
// same layer share the work: the first downloads it, the second waits on the lock and then finds it
// in the store. The store's own lock (store-lock.ts) is not held meanwhile, so other commands (and
// pulls of other images) go on. Lock files are never deleted: a waiter would otherwise hold a lock
// on a file that a newcomer no longer sees. They are empty, one per layer ever pulled.
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { flockExclusive } from '../../native/shim.js';
import { digestHex } from '../digest-hex.js';

export interface HeldLock { release(): void }

/** Waits for the lock of layer `diffId` (the event loop keeps running meanwhile). */
export async function lockLayer(storeDir: string, diffId: string): Promise<HeldLock> {
  const dir = `${storeDir}/locks`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fd = openSync(`${dir}/${digestHex(diffId, 'diff_id')}`, 'a', 0o600);
  try {
    await flockExclusive(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let held = true;
  return { release: () => { if (held) { held = false; closeSync(fd); } } };
}
