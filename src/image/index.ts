// The image library's public API (what `tsrun image …` and `tsrun run --image` use).
//
// `tsrun image pull REF`: const record = await pullImage(ref, { store, platform, onProgress });
//
// `run --image LAYOUT[:TAG]` (or a registry reference: imageRootfs pulls it when the store lacks it), in order:
//   const rootfs = await imageRootfs(ref, { store, container });      // imports if needed (a stat if unchanged),
//                                                                      // records that `container` uses the layers
//   const spec = specFromImage(rootfs.imageConfig, defaultSpec({ terminal }), { args, lowerDirs: rootfs.lowerDirs });
//   const ov = overlayForContainer(rootfs, containerStateDir);        // makes upper/ and work/ there
//   // inside the container's mount namespace: chdir(ov.chdir); mount('overlay', rootfsPath, 'overlay', 0, ov.data)
//   // on delete: removeContainerOverlay(containerStateDir); removeContainerRef(containerRefPath(store, containerStateDir))
export type { ImageConfig, ImageRunConfig, ImageManifest, ImageIndex, Descriptor } from './types.js';
export { pullImage, offlineFromEnv, type PullOptions, type PullEvent, type LayerState } from './registry/pull.js';
export { parseRegistryRef, type RegistryRef } from './registry/reference.js';
export { importImage, importWithLockHeld, parseImageArg, isImageSource, type ImportOptions, type ImportProgress } from './import.js';
export { imageRootfs, rootfsOfRecord, type ImageRootfs, type ImageRootfsOptions } from './rootfs.js';
export { specFromImage, type ImageSpecOverrides } from './spec-from-image.js';
export {
  overlayMountData, overlayForContainer, removeContainerOverlay, MOUNT_DATA_MAX, type OverlayMountData, type ContainerOverlay,
} from './overlay.js';
export { listImages, removeImage, pruneLayers, unpackBundle } from './manage.js';
export { ImageStore, type ImageRecord } from './image-store.js';
export { withStoreLock, type StoreLockOptions } from './store-lock.js';
export { containerRefPath, removeContainerRef, liveContainerRefs, type ContainerRef } from './container-refs.js';
export { LayerStore, DEFAULT_STORE } from './layer-store.js';
export { unpackLayer, type UnpackLimits, type UnpackOptions } from './layer-unpack.js';
export { flattenLayers } from './flatten.js';
export { readLayeredFile } from './layered-file.js';
