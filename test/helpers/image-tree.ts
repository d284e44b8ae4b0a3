// Listing a root filesystem tree for comparisons (the image tests compare tsrun's layers with
// `umoci unpack`): one line per path with its type, mode, owner and link target, then the sha256
// of every file and the numbers of every device. An image's merged view is listed with its overlay
// mounted inside a private mount namespace (`unshare -m`), so nothing stays mounted on the host.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { ImageRootfs } from '../../src/image/rootfs.js';
import { overlayForContainer, removeContainerOverlay } from '../../src/image/overlay.js';

export const LIST_TREE = String.raw`
cd "$1" && find . -printf '%p %y %m %U:%G %l\n' | sort > "$2.meta"
find . -type f -exec sha256sum {} + | sort -k2 > "$2.sums"
find . \( -type c -o -type b \) -exec stat -c '%n %t:%T' {} + | sort > "$2.dev"
cat "$2.meta" "$2.sums" "$2.dev"
`;

/** The listing of `dir`; `out` is a path prefix for its scratch files. */
export function listTree(dir: string, out: string): string {
  return execFileSync('sh', ['-c', LIST_TREE, 'list', dir, out], { encoding: 'utf8' });
}

/** The listing of an image's merged overlay view, mounted under `work/name` in a private mount namespace. */
export function mergedTreeOf(rootfs: ImageRootfs, work: string, name: string): string {
  const c = `${work}/${name}`;
  mkdirSync(`${c}/merged`, { recursive: true });
  const m = overlayForContainer(rootfs, c);
  const script = `cd "$1" && mount -t overlay overlay -o "$2" "$3" && sh -c '${LIST_TREE.replace(/'/g, `'\\''`)}' list "$3" "$4"`;
  try {
    return execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', m.chdir, m.data, `${c}/merged`, `${work}/${name}-list`], { encoding: 'utf8' });
  } finally {
    removeContainerOverlay(c);
  }
}
