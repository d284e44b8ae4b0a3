// What `tsrun run --image` needs: the image imported (if it is a layout or archive on disk) or found
// in the store, as a list of layer directories and its config.
import { defaultStoreDir } from '../state/user-dirs.js';
import { TsrunError } from '../errors.js';
import { addContainerRef } from './container-refs.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { findImported, findPulled, isImageSource, needsPull } from './image-arg.js';
import type { ImportOptions } from './import.js';
import type { PullOptions } from './registry/pull.js';
import { LayerPaths } from './store-paths.js';
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
    if (!layers.has(l.diffId)) {
      const why = layers.complete(l.diffId) ? 'has owners of other id maps' : 'is missing from the store';
      throw new TsrunError(`image ${rec.names[0] ?? rec.id}: layer ${l.diffId} ${why}; import it again`, { file: l.diffId });
    }
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
  /** How to pull a registry reference the store lacks (registry/pull.ts; TSRUN_OFFLINE forbids it). */
  pull?: Omit<PullOptions, 'store'>;
}

/**
 * `ref` is `LAYOUT[:TAG]` or a docker archive on disk (imported if needed: an unchanged source costs
 * a stat), the name or id of an image already in the store, or a registry reference (pulled first
 * when the store lacks it, like podman's --pull=missing). Finding the layers and recording the
 * container that uses them happen under one store lock, so no prune can come in between.
 */
export async function imageRootfs(ref: string, options: ImageRootfsOptions = {}): Promise<ImageRootfs> {
  const storeDir = options.store ?? defaultStoreDir();
  const source = isImageSource(ref);
  // A pull takes the store lock only to write its record (layers have locks of their own), so it
  // runs before the lock below; the pull code loads only then (the startup snapshot leaves it out).
  if (!source && needsPull(ref, storeDir)) await (await import('./registry/pull.js')).pullImage(ref, { ...options.pull, store: storeDir });
  return withStoreLock(storeDir, async () => {
    // An unchanged source that is already imported costs a stat; only a real import loads the import
    // code (which the startup snapshot leaves out: bin/tsrun routes such a run to the full bundle).
    const rec = !source ? findPulled(ref, storeDir) ?? new ImageStore(storeDir).get(ref)
      : findImported(ref, storeDir, options.name) ?? await (await import('./import.js')).importWithLockHeld(ref, { ...options, store: storeDir });
    const rootfs = rootfsOfRecord(rec, storeDir);
    const c = options.container;
    if (c) addContainerRef(storeDir, { stateDir: c.stateDir, id: c.id, image: rec.id, diffIds: rootfs.diffIds, created: utcTimestamp() });
    return rootfs;
  }, { create: source });
}
