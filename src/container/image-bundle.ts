// `run --image`: turns an image into a bundle inside the container's state directory — config.json
// generated from the image config over the default spec, and rootfs/ as the mount point of an
// overlay of the image's layers plus a writable upper layer. The overlay is mounted by the
// container's own first steps, inside its mount namespace, so it vanishes with the container and
// the host's mount table never sees it.
//
// The container also takes a reference in the image store (image/container-refs.ts) so that
// `image rm` + `image prune` cannot delete the layers under it; `image.json` in the state dir says
// where that reference is, and `delete` drops it (image-release.ts). With `keepUpper` the upper
// and work dirs are made in the store instead of the state dir, and delete keeps the upper one.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { containerRefPath, imageRootfs, makeKeptUpperDir, overlayForContainer, specFromImage } from '../image/index.js';
import { defaultStoreDir } from '../state/user-dirs.js';
import type { Bundle } from '../oci/bundle.js';
import { defaultSpec } from '../oci/default-spec.js';
import { rootlessImageMaps } from '../namespaces/subordinate-ids.js';
import { validateSpec } from '../oci/validate.js';
import type { RootfsOverlay } from '../rootfs/image-overlay.js';
import { IMAGE_STATE_FILE, type ImageState } from './image-release.js';

export interface ImageRunOptions {
  /** `LAYOUT[:TAG]`, a docker archive, or the name/id of an image in the store. */
  ref: string;
  /** Replaces the image's Cmd (after `--`). */
  args?: string[];
  store?: string;
  tty?: boolean;
  /** Put the upper layer in the store, where delete leaves it (image/kept-uppers.ts). */
  keepUpper?: boolean;
}

export interface ImageBundle {
  bundle: Bundle;
  /** The overlay the container's first steps mount on bundle.rootfs (rootfs/image-overlay.ts). */
  overlay: RootfsOverlay;
}

/** `stateDir` is the container's new, empty state directory (`<root>/<id>`). */
export async function prepareImageBundle(image: ImageRunOptions, stateDir: string): Promise<ImageBundle> {
  const store = resolve(image.store ?? defaultStoreDir());
  const absState = resolve(stateDir);
  // Written before the reference exists: whatever happens after, delete can find it and drop it.
  const state: ImageState = { store, ref: containerRefPath(store, absState) };
  writeFileSync(join(stateDir, IMAGE_STATE_FILE), JSON.stringify(state) + '\n', { mode: 0o600 });
  const rootfs = await imageRootfs(image.ref, { store, container: { stateDir: absState, id: basename(absState) } });
  // A user's container: `spec --rootless`'s config, with the subordinate ids it has (so the image's USER exists).
  const rootless = (process.geteuid?.() ?? 0) !== 0;
  const base = defaultSpec({ terminal: image.tty ?? false, rootless });
  if (rootless) {
    const maps = rootlessImageMaps();
    base.linux = { ...base.linux, uidMappings: maps.uid, gidMappings: maps.gid };
  }
  const spec = specFromImage(rootfs.imageConfig, base, {
    lowerDirs: rootfs.lowerDirs, ...(image.args?.length ? { args: image.args } : {}),
  });
  spec.root = { path: 'rootfs' };
  const dir = join(stateDir, 'bundle');
  const configPath = join(dir, 'config.json');
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  writeFileSync(configPath, JSON.stringify(spec, null, 2), { mode: 0o600 }); // its env: as private as state.json
  let upperParent = stateDir;
  if (image.keepUpper) {
    // Recorded before it is made: a create killed in between leaves nothing that delete cannot find.
    upperParent = makeKeptUpperDir(store, basename(absState), rootfs, new Date(), (dir) => {
      writeFileSync(join(stateDir, IMAGE_STATE_FILE), JSON.stringify({ ...state, keptUpper: dir }) + '\n', { mode: 0o600 });
    });
  }
  const overlay = overlayForContainer(rootfs, upperParent);
  return {
    bundle: { dir, configPath, spec: validateSpec(spec, configPath), rootfs: join(dir, 'rootfs') },
    overlay: { chdir: overlay.chdir, data: overlay.data },
  };
}
