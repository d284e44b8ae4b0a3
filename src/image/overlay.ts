// Overlay mount data for an image. The data of mount(2) is limited to one page (4096 bytes), so
// lower layers are named by their short links relative to `<store>/l` — the caller chdirs there
// before mounting — rather than by 90-byte absolute paths: a few hundred layers fit.
import { chmodSync, chownSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { LayerPaths, overlayOptionsFor } from './store-paths.js';

export const MOUNT_DATA_MAX = 4095; // one page, less the terminating NUL

export interface OverlayMountData {
  /** Directory to chdir into before mount(2): the relative lowerdir paths start there. */
  chdir: string;
  /** `lowerdir=…,upperdir=…,workdir=…` (or lowerdir only for a read-only mount). */
  data: string;
}

// overlayfs splits its options at ',' and lowerdir at ':'; such paths would need escaping.
function checkPath(p: string, what: string): string {
  if (/[,:\\\n]/.test(p)) throw new TsrunError(`${what} ${p}: overlay paths may not contain ',', ':' or '\\'`, { file: p });
  return p;
}

/**
 * Builds overlay mount data for `diffIds` (bottom first, as in the image config). With no upper dir
 * the mount is read-only. `upperDir`/`workDir` are absolute, on the same file system, in the
 * container's own state directory.
 */
export function overlayMountData(storeDir: string, diffIds: string[], upper?: { upperDir: string; workDir: string }, extraOptions: string[] = []): OverlayMountData {
  if (diffIds.length === 0) throw new TsrunError('an image with no layers cannot be mounted');
  const store = new LayerPaths(storeDir);
  const lowers = [...diffIds].reverse().map((d) => {
    if (!store.has(d)) throw new TsrunError(`layer ${d} is not in the store ${storeDir}: import the image again`, { file: d });
    return store.shortName(d);
  });
  const opts = [`lowerdir=${lowers.join(':')}`];
  if (upper) opts.push(`upperdir=${checkPath(upper.upperDir, 'upperdir')}`, `workdir=${checkPath(upper.workDir, 'workdir')}`);
  opts.push(...extraOptions);
  const data = opts.join(',');
  if (data.length > MOUNT_DATA_MAX) {
    throw new TsrunError(`overlay mount data for ${diffIds.length} layers is ${data.length} bytes, over the ${MOUNT_DATA_MAX}-byte limit`);
  }
  return { chdir: store.linkDir, data };
}

export interface ContainerOverlay extends OverlayMountData {
  upperDir: string;
  workDir: string;
}

/**
 * Creates `<containerDir>/upper` and `<containerDir>/work` and returns the mount data for a
 * container's rootfs. `containerDir` is the container's state dir, or with --keep-upper its
 * directory in the store (kept-uppers.ts). The upper dir takes the owner and mode of the image's top layer root: the
 * merged root directory shows the upper dir's, and `/` should look as the image made it.
 */
export function overlayForContainer(rootfs: { storeDir: string; diffIds: string[]; lowerDirs: string[] }, containerDir: string): ContainerOverlay {
  const upperDir = `${containerDir}/upper`;
  const workDir = `${containerDir}/work`;
  mkdirSync(upperDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  const top = lstatSync(rootfs.lowerDirs[0]!);
  try {
    chownSync(upperDir, top.uid, top.gid);
  } catch (e) {
    // A user's store whose top layer root belongs to a subordinate id (a tar whose `./` is not
    // root's): the user may not give its own dir that owner, and `/` then shows as root's.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM' || (process.geteuid?.() ?? 0) === 0) throw e;
  }
  chmodSync(upperDir, top.mode & 0o7777);
  return { ...overlayMountData(rootfs.storeDir, rootfs.diffIds, { upperDir, workDir }, overlayOptionsFor()), upperDir, workDir };
}

/** Deletes a container's upper and work dirs (after the overlay is unmounted, with its namespace). */
export function removeContainerOverlay(containerDir: string): void {
  rmSync(`${containerDir}/upper`, { recursive: true, force: true });
  rmSync(`${containerDir}/work`, { recursive: true, force: true });
}
