// The directories of one layer being unpacked, and how an entry's parent path is resolved in it.
//
// A layer may write through a symlink it made itself: `lib -> usr/lib` then `lib/foo.so` is how
// usrmerge images look, and the container sees foo.so in /usr/lib. So a parent path is resolved
// component by component the way the container will see it — like openat2(RESOLVE_IN_ROOT) with
// the layer directory as root: an absolute target starts again at the layer root, a relative one at
// the symlink's directory, chains are followed (at most 40 links, as the kernel allows). Missing
// directories on the way are created. Two things are refused rather than followed:
//   - a `..` that would climb above the layer root (the kernel and `umoci unpack` would stop at the
//     root; GNU tar refuses; an image that needs it is broken, so tsrun refuses with the link named);
//   - a parent that resolves to something that is not a directory.
// `umoci unpack` gives the same tree for everything tsrun accepts (test/integration/image). GNU tar
// follows only relative links without `..` and refuses the rest.
//
// Only symlinks of *this* layer are seen: a layer is unpacked on its own, as overlayfs stores it, so
// `lib/foo.so` in a layer without its own `lib` creates a real `lib/` directory there, which in the
// merged view hides a lower layer's `lib -> usr/lib` (docker's overlay2 driver does the same; image
// builders record the real path, `usr/lib/foo.so`).
import { lstatSync, mkdirSync, readlinkSync } from 'node:fs';
import { hostile, parentOf } from './entry-path.js';

/** What Linux allows on one lookup (MAXSYMLINKS). */
const MAX_LINKS = 40;

export class LayerDirs {
  /** Paths (relative, symlink-free) known to be real directories of the layer. */
  private readonly known = new Set<string>(['']);
  /** Parent paths that went through a symlink, and what they resolved to. */
  private readonly viaLinks = new Map<string, string>();
  /** Directories that are setgid: a file created in them gets their group, not ours. */
  readonly setgid = new Set<string>();
  /** The last resolution: entries come directory by directory, so most share their parent with the one before. */
  private last: { rel: string; dir: string } | undefined;

  /**
   * `limits`: the longest path and the deepest nesting a directory made here may have (a symlink of
   * the layer can lead an entry's parent far from its name).
   */
  constructor(readonly root: string, private readonly limits: { pathBytes: number; depth: number } = { pathBytes: Infinity, depth: Infinity }) {}

  abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  isKnown(rel: string): boolean { return this.known.has(rel); }
  markKnown(rel: string): void { this.known.add(rel); }

  /** After something was removed or replaced, nothing cached about the tree can be trusted. */
  forget(): void {
    this.last = undefined;
    this.known.clear();
    this.known.add('');
    this.viaLinks.clear();
  }

  /**
   * The symlink-free path of directory `rel` inside the layer, following this layer's symlinks in
   * the layer root. Missing directories are created, unless `create` is false (then a missing one
   * is an error: the caller names what it looked for).
   */
  resolve(rel: string, entryName: string, create = true): string {
    if (this.last?.rel === rel) return this.last.dir;
    const dir = this.walk(rel, entryName, create);
    this.last = { rel, dir };
    return dir;
  }

  private walk(rel: string, entryName: string, create: boolean): string {
    if (this.known.has(rel)) return rel;
    const cached = this.viaLinks.get(rel);
    if (cached !== undefined) return cached;
    const todo = rel.split('/').reverse(); // components still to walk, next one last
    let cur = '';
    let links = 0;
    let via = ''; // the last symlink followed, for messages
    while (todo.length > 0) {
      const part = todo.pop()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        // `cur` holds no symlink, so its lexical parent is its real parent.
        if (cur === '') throw hostile(entryName, `symlink '${via}' leads above the layer root; refusing to write through it`);
        cur = parentOf(cur);
        continue;
      }
      const next = cur === '' ? part : `${cur}/${part}`;
      if (this.known.has(next)) { cur = next; continue; }
      let st;
      try {
        st = lstatSync(this.abs(next));
      } catch {
        if (!create) throw hostile(entryName, `'${next}' (resolving '${rel}') is not in this layer`);
        this.checkLimits(next, entryName);
        mkdirSync(this.abs(next), 0o755);
        // The kernel makes a directory created in a setgid one setgid too (and gives it its group).
        if (this.setgid.has(cur)) this.setgid.add(next);
        this.known.add(next);
        cur = next;
        continue;
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw hostile(entryName, `more than ${MAX_LINKS} symlinks resolving '${rel}' (a loop?)`);
        const target = readlinkSync(this.abs(next));
        via = next;
        if (target.startsWith('/')) cur = '';
        todo.push(...target.split('/').reverse());
        continue;
      }
      if (!st.isDirectory()) throw hostile(entryName, `'${next}' is not a directory`);
      this.known.add(next);
      cur = next;
    }
    if (links > 0) this.viaLinks.set(rel, cur);
    return cur;
  }

  private checkLimits(next: string, entryName: string): void {
    if (next.length * 3 > this.limits.pathBytes && Buffer.byteLength(next) > this.limits.pathBytes) {
      throw hostile(entryName, `its parent resolves to a path of ${Buffer.byteLength(next)} bytes in the layer; at most ${this.limits.pathBytes} (PATH_MAX, less the store's own path)`);
    }
    if (next.length > 2 * this.limits.depth && next.split('/').length > this.limits.depth) {
      throw hostile(entryName, `its parent resolves to a directory nested ${next.split('/').length} deep; at most ${this.limits.depth}`);
    }
  }
}
