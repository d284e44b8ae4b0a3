// Reading one file of an image without mounting it: look through the layer directories top first,
// as overlayfs would, stopping at a whiteout (0/0 character device) or an opaque directory.
import { opaqueXattrFor } from './store-paths.js';
import { lstatSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { lgetxattr } from '../native/fs-ext.js';

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

// A missing path is the common case here (most layers lack most files): no exception for it.
function lstat(p: string): Stats | undefined {
  return lstatSync(p, { throwIfNoEntry: false });
}

/**
 * Contents of `path` (absolute inside the image) in the merged view of `lowerDirs` (top first), or
 * undefined if absent. Symlinks along the way are followed inside the image, never on the host.
 */
export function readLayeredFile(lowerDirs: string[], path: string, opaqueXattr = opaqueXattrFor(), depth = 0): Buffer | undefined {
  if (depth > 16) return undefined;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (const layer of lowerDirs) {
    let stop = false;
    let cur = layer;
    for (let i = 0; i < parts.length; i++) {
      cur += `/${parts[i]}`;
      const st = lstat(cur);
      if (!st) break;
      if (isWhiteout(st)) return undefined;
      if (st.isSymbolicLink()) {
        const target = readlinkSync(cur);
        // Resolved as inside the container: relative to its directory, `..` stopping at the image root.
        const next = posix.resolve('/', parts.slice(0, i).join('/'), target, ...parts.slice(i + 1));
        return readLayeredFile(lowerDirs, next, opaqueXattr, depth + 1);
      }
      if (i === parts.length - 1) return st.isFile() ? readFileSync(cur) : undefined;
      if (!st.isDirectory()) return undefined;
      if (lgetxattr(cur, opaqueXattr)?.toString() === 'y') stop = true;
    }
    if (stop) return undefined;
  }
  return undefined;
}
