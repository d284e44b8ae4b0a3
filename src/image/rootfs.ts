// What `tsrun run --image` needs: the image imported (if it is a layout or archive on disk) or found
// in the store, as a list of layer directories and its config.
import { TsrunError } from '../errors.js';
import { addContainerRef } from './container-refs.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { findImported, isImageSource } from './image-arg.js';
import type { ImportOptions } from './import.js';
import { DEFAULT_STORE, LayerPaths } from './store-paths.js';
import { utcTimestamp } from '../state/timestamp.js';
import { withStoreLock } from './store-lock.js';
import type { ImageConfig } from './types.js';

export interface ImageRootfs {
  /** Layer directories, top first, absolute. */
  lowerDirs: string[];
  /** diff-ids, bottom first (as in the image config): what overlayMountData takes. */
  diffIds: string[];
  imageConfig: ImageConfig;
  /** Image id (manifest digest, or config digest for a docker archive). */
  id: string;
  storeDir: string;
}

export function rootfsOfRecord(rec: ImageRecord, storeDir: string): ImageRootfs {
  const layers = new LayerPaths(storeDir);
  for (const l of rec.layers) {
    if (!layers.has(l.diffId)) throw new TsrunError(`image ${rec.names[0] ?? rec.id}: layer ${l.diffId} is missing from the store; import it again`, { file: l.diffId });
  }
  return {
    lowerDirs: rec.layers.map((l) => layers.rootOf(l.diffId)).reverse(),
    diffIds: rec.layers.map((l) => l.diffId),
    imageConfig: rec.config,
    id: rec.id,
    storeDir,
  };
}

export interface ImageRootfsOptions extends ImportOptions {
  /** The container that will mount the layers: recorded in the store (container-refs.ts) so prune keeps them. */
  container?: { stateDir: string; id: string };
}

/**
 * `ref` is `LAYOUT[:TAG]` or a docker archive on disk (imported if needed: an unchanged source costs
 * a stat), or the name or id of an image already in the store. Finding the layers and recording the
 * container that uses them happen under one store lock, so no prune can come in between.
 */
export async function imageRootfs(ref: string, options: ImageRootfsOptions = {}): Promise<ImageRootfs> {
  const storeDir = options.store ?? DEFAULT_STORE;
  const source = isImageSource(ref);
  return withStoreLock(storeDir, async () => {
    // An unchanged source that is already imported costs a stat; only a real import loads the import
    // code (which the startup snapshot leaves out: bin/tsrun routes such a run to the full bundle).
    const rec = !source ? new ImageStore(storeDir).get(ref)
      : findImported(ref, storeDir, options.name) ?? await (await import('./import.js')).importWithLockHeld(ref, { ...options, store: storeDir });
    const rootfs = rootfsOfRecord(rec, storeDir);
    const c = options.container;
    if (c) addContainerRef(storeDir, { stateDir: c.stateDir, id: c.id, image: rec.id, diffIds: rootfs.diffIds, created: utcTimestamp() });
    return rootfs;
  }, { create: source });
}
