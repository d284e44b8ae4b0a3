// The image library's face: everything code outside src/image/ uses (the CLI, container/, the library
// API to come) comes from here. It is light on purpose — the startup snapshot holds it, so that the
// second container of an image starts without the image code: finding an image in the store, its
// layers, its config as a spec, the overlay and the store's records of containers. The heavy parts
// (importing layouts and archives, pulling, unpacking, prune) are functions that load their code on
// their first call (src/startup/manifest.ts lists those modules as outside the snapshot).
//
//   `tsrun image pull REF`:   const record = await pullImage(ref, { store, platform, onProgress });
//   `run --image REF`:        const rootfs = await imageRootfs(ref, { store, container });  // imports or pulls if needed
//                             const spec = specFromImage(rootfs.imageConfig, defaultSpec({ terminal }), { args, lowerDirs: rootfs.lowerDirs });
//                             const ov = overlayForContainer(rootfs, containerStateDir);   // upper/ and work/ there
//   on delete:                removeContainerOverlay(stateDir); removeContainerRef(containerRefPath(store, stateDir))

export type { ImageConfig, ImageRunConfig, ImageManifest, ImageIndex, Descriptor } from './types.js';
export type { ImportOptions, ImportProgress } from './import.js';
export type { PullOptions, PullEvent, LayerState } from './registry/pull.js';
export type { PullDisplay } from './registry/progress.js';

// Light: what a container started from an image needs.
export { DEFAULT_STORE, LayerPaths, type LayerInfo } from './store-paths.js';
export { isImageSource, parseImageArg, needsImport, needsPull } from './image-arg.js';
export { ImageStore, shortId, type ImageRecord } from './image-store.js';
export { imageRootfs, rootfsOfRecord, type ImageRootfs, type ImageRootfsOptions } from './rootfs.js';
export { specFromImage, type ImageSpecOverrides } from './spec-from-image.js';
export {
  overlayMountData, overlayForContainer, removeContainerOverlay, MOUNT_DATA_MAX, type OverlayMountData, type ContainerOverlay,
} from './overlay.js';
export { containerRefPath, removeContainerRef, liveContainerRefs, type ContainerRef } from './container-refs.js';
export { makeKeptUpperDir, finishKeptUpper } from './kept-uppers.js';
export { removeShiftedTree } from './remove-shifted.js';
export { removeKeptUpper } from './remove-kept-upper.js';
export { withStoreLock, type StoreLockOptions } from './store-lock.js';
export { parseRegistryRef, type RegistryRef } from './registry/reference.js';
export { formatBytes, terminalProgress } from './progress.js';

// Heavy: loaded on first call.
type Fn = (...args: never[]) => unknown;
type Lazy<F extends Fn> = (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>>;

/** Imports an OCI layout, a docker archive or an OCI archive into the store (import.ts). */
export const importImage: Lazy<typeof import('./import.js').importImage> = async (...a) => (await import('./import.js')).importImage(...a);
/** Pulls an image from a registry into the store (registry/pull.ts). */
export const pullImage: Lazy<typeof import('./registry/pull.js').pullImage> = async (...a) => (await import('./registry/pull.js')).pullImage(...a);
/** Progress of a pull on a terminal (redrawn lines) or a log (plain lines). */
export const pullDisplay: Lazy<typeof import('./registry/progress.js').pullDisplay> = async (...a) => (await import('./registry/progress.js')).pullDisplay(...a);
export const listImages: Lazy<typeof import('./manage.js').listImages> = async (...a) => (await import('./manage.js')).listImages(...a);
export const removeImage: Lazy<typeof import('./manage.js').removeImage> = async (...a) => (await import('./manage.js')).removeImage(...a);
/** Deletes the layers no image and no existing container uses. */
export const pruneLayers: Lazy<typeof import('./manage.js').pruneLayers> = async (...a) => (await import('./manage.js')).pruneLayers(...a);
/** Writes a runnable bundle (flattened rootfs/ + config.json) from an image. */
export const unpackBundle: Lazy<typeof import('./manage.js').unpackBundle> = async (...a) => (await import('./manage.js')).unpackBundle(...a);
