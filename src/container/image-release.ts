// What a container started from an image holds outside its state directory, and its release at
// delete (or when create fails). Kept apart from image-bundle.ts so that `delete` and `run` of a
// plain bundle load nothing of the image code: for them this is one failed read of image.json.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { finishKeptUpper } from '../image/index.js';

/** `image.json` in the container's state dir. */
export interface ImageState {
  /** The image store (absolute). */
  store: string;
  /** The container's reference in the store (image/container-refs.ts), which keeps prune off its layers. */
  ref: string;
  /** With --keep-upper: the directory of its upper layer in the store (image/kept-uppers.ts). */
  keptUpper?: string;
}

export const IMAGE_STATE_FILE = 'image.json';

function readImageState(stateDir: string): ImageState | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, IMAGE_STATE_FILE), 'utf8')) as ImageState;
  } catch {
    return undefined; // a container from a bundle, or one that failed before it was written
  }
}

/**
 * Gives back what a container from an image holds in the image store, once its processes (and so
 * its overlay mount) are gone. Its upper and work dirs go with the state dir — unless it was created
 * with --keep-upper: then the upper dir stays in the store and its path is returned. `keepUpper:
 * false` (a failed create) removes even that. A no-op for a container from a bundle.
 */
export function releaseImageBundle(stateDir: string, opts: { keepUpper?: boolean } = {}): string | undefined {
  const state = readImageState(stateDir);
  if (!state) return undefined;
  // Removing the reference needs no store lock: a prune either still sees it or no longer needs it.
  rmSync(state.ref, { force: true });
  if (!state.keptUpper) return undefined;
  if (opts.keepUpper === false) {
    rmSync(state.keptUpper, { recursive: true, force: true });
    return undefined;
  }
  return finishKeptUpper(state.keptUpper);
}
