// `run --image`: the rootfs is an overlay of the image's layers under a writable upper layer, mounted
// by the container's own first steps inside its mount namespace, so it vanishes with the container
// and the host's mount table never sees it. image/overlay.ts decides the mount data; this makes the
// steps. Pure.
import type { Step } from '../abi/steps.js';

/** Mounted on the rootfs directory of the bundle the image code made. */
export interface RootfsOverlay {
  /** The layer store, where the short relative lowerdir names of `data` resolve. */
  chdir: string;
  /** overlayfs mount data: lowerdir, upperdir, workdir. */
  data: string;
}

export function overlaySteps(overlay: RootfsOverlay, rootfs: string): Step[] {
  return [
    { op: 'chdir', path: overlay.chdir, why: 'lowerdir names are short links relative to the layer store: mount data is limited to one page' },
    {
      op: 'mount', source: 'overlay', target: rootfs, fstype: 'overlay', data: overlay.data, flags: 0,
      why: 'the image\'s layers (top first) merged under a writable upper layer of this container: the rootfs', field: 'image',
    },
    { op: 'chdir', path: '/', why: 'back from the layer store' },
  ];
}
