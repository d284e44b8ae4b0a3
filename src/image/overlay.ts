// Overlay mount data for an image. The data of mount(2) is limited to one page (4096 bytes), so
// lower layers are named by their short links relative to `<store>/l` — the caller chdirs there
// before mounting — rather than by 90-byte absolute paths: a few hundred layers fit.
import { TsrunError } from '../errors.js';
import { LayerStore } from './layer-store.js';

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
  const store = new LayerStore(storeDir);
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
