// Upper layers kept after their container (`run`/`create --image … --keep-upper`), to look at what a
// container changed: `<store>/uppers/<container id>-<UTC time of create>/`, holding
//   upper/        the container's writes in overlayfs' format (a deleted file is a 0/0 character
//                 device, a replaced directory has the `trusted.overlay.opaque` xattr);
//   work/         overlayfs' scratch dir, removed with the container;
//   upper.json    what the upper layer lies on: the container, the image and its layers.
// The directory is made there at create rather than moved there at delete: the state root is
// usually a tmpfs and the store a disk, so a move would be a copy of a possibly big tree, and the
// container's writes would fill memory meanwhile. `image prune` leaves these alone; `image rm-upper`
// removes one (remove-kept-upper.ts).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { ImageRootfs } from './rootfs.js';

/** 2024-05-01T12:34:56.789Z → 20240501T123456Z: sorts by time; no ':', which overlayfs options cannot hold. */
function compactTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Makes the kept-upper directory of container `id` and returns it. Never reuses one: a container of
 * the same id created in the same second gets `.2`, `.3`… `claim` is told the name before the
 * directory is made, so that a create killed at any point has recorded what to remove (no other
 * process makes a directory for this id meanwhile: ids are unique among existing containers).
 */
export function makeKeptUpperDir(storeDir: string, id: string, rootfs: ImageRootfs, now = new Date(), claim?: (dir: string) => void): string {
  mkdirSync(`${storeDir}/uppers`, { recursive: true, mode: 0o700 });
  const base = `${storeDir}/uppers/${id}-${compactTime(now)}`;
  for (let n = 1; ; n++) {
    const dir = n === 1 ? base : `${base}.${n}`;
    if (claim) {
      if (existsSync(dir)) continue; // an earlier container's: never claimed, even for an instant
      claim(dir);
    }
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    const about = { container: id, created: now.toISOString(), image: rootfs.id, diffIds: rootfs.diffIds };
    writeFileSync(`${dir}/upper.json`, JSON.stringify(about, null, 2) + '\n');
    return dir;
  }
}

/** After the container is gone: overlayfs' work dir goes, the upper dir stays. Returns the upper dir. */
export function finishKeptUpper(dir: string): string {
  rmSync(`${dir}/work`, { recursive: true, force: true });
  return `${dir}/upper`;
}
