// Unpacks one layer tar into a directory in overlayfs' on-disk format: `.wh.NAME` becomes a 0/0
// character device, `.wh..wh..opq` an opaque-directory xattr. Everything else keeps its type,
// owner, mode (setuid/setgid/sticky included), mtime and xattrs.
//
// Speed: every entry costs a handful of syscalls, so they are made synchronously from the parser's
// callbacks through file descriptors (open, write, fchown, fchmod, futimes, close): no promise or
// thread-pool hop per call, and no path lookup after the open. Entries are created relative to an fd
// of the layer root (openat, mkdirat, symlinkat, fchownat, utimensat…), as GNU tar creates them
// relative to its directory: the kernel walks `usr/share/doc/x`, not `/var/lib/tsrun/tmp/…/root/usr/…`
// (~1 µs per open on tmpfs). Reading and gunzip stay asynchronous.
import { opaqueXattrFor } from './store-paths.js';
import { closeSync, constants as C, fchmodSync, fchownSync, linkSync, lstatSync, openSync, rmSync, unlinkSync } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  AT_SYMLINK_NOFOLLOW, close, fchmodat, fchownat, futimens, lsetxattr, mkdirat, mknod, openat, S_IFBLK, S_IFCHR, S_IFIFO,
  symlinkat, utimensat, writeAll,
} from '../native/fs-ext.js';
import { TsrunError } from '../errors.js';
import { baseOf, childOf, entryPath, hostile, parentOf } from './entry-path.js';
import { LayerDirs } from './layer-dirs.js';
import { ownerProblem, type IdShift, type OwnedEntry } from './owner-shift.js';
import { TarParser, type TarHeader as Header } from './tar-parser.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';

export interface UnpackLimits {
  /** Largest single file accepted (bytes). */
  maxEntryBytes: number;
  /** Largest total of file bytes in one layer. */
  maxLayerBytes: number;
  /** Most entries in one layer. */
  maxEntries: number;
}

/**
 * How deeply a path may nest. Linux sets no limit, but removing a tree is recursive (Node's rmSync,
 * `image prune`): a layer of 2,000 nested directories made the removal of a failed import overflow
 * the stack and left it in the store. Real images nest a few dozen levels.
 */
export const MAX_PATH_DEPTH = 512;

/**
 * Headroom for the layer's final place: it is unpacked in `<store>/tmp/<pid>-XXXXXX/root` and moved
 * to `<store>/layers/<64 hex>/root`, up to ~60 bytes longer.
 */
const FINAL_PLACE_HEADROOM = 64;

export const DEFAULT_LIMITS: UnpackLimits = {
  maxEntryBytes: 64 * 2 ** 30,
  maxLayerBytes: 512 * 2 ** 30,
  maxEntries: 10_000_000,
};

export interface UnpackOptions {
  limits?: Partial<UnpackLimits>;
  /** xattr that marks an opaque directory; `user.overlay.opaque` for overlays mounted with userxattr. */
  opaqueXattr?: string;
  /**
   * Not root, with subordinate ids: the maps the owners are shifted with (owner-shift.ts). Every
   * owner must be inside them; the entries of other owners than root are returned (`owned`) for
   * tsrun-init to chown in the user namespace. Without it a user's files all stay its own.
   */
  shift?: IdShift;
}

export interface UnpackResult {
  entries: number;
  bytes: number;
  /** With a shift: what is not root's inside, by its final path in the layer (owner-shift.ts). */
  owned?: OwnedEntry[];
  /** A user's unpack without a shift: how many entries had an owner other than root, now the user's own. */
  ownersNotKept?: number;
}

const CREATE_FLAGS = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
// overlayfs keeps its own state in these; an image must not be able to plant them.
const FORBIDDEN_XATTR = /^(trusted|user)\.overlay\./;
const FILE_CAPS = 'security.capability';

interface DirTimes { rel: string; atime: number; mtime: number }

/**
 * One layer being written. Every method takes the entry's path with its parent already resolved
 * (LayerDirs.resolve): symlink-free, inside `root`, the parent an existing directory.
 */
class LayerWriter {
  readonly dirs: LayerDirs;
  dirTimes: DirTimes[] = [];
  private readonly asRoot = process.getuid?.() === 0;
  // A new file is owned by our effective ids unless its directory is setgid; then fchown is a no-op.
  private readonly euid = process.geteuid?.() ?? -1;
  private readonly egid = process.getegid?.() ?? -1;
  /** True while the umask is 0, so open() applies the exact permission bits. */
  exactModes = true;
  entries = 0;
  bytes = 0;
  /** With a shift: entries whose owner inside is not root, by path (the last entry for a path wins). */
  readonly owned = new Map<string, OwnedEntry>();
  ownersNotKept = 0;

  /** The layer root, opened once: entries are created relative to it. */
  readonly rootFd: number;
  /**
   * Longest path of an entry inside the layer: its absolute path, in the store, must stay under
   * PATH_MAX, or the store could not stat, replace or remove it again by path.
   */
  readonly maxPathBytes: number;

  constructor(readonly root: string, readonly limits: UnpackLimits, readonly opaqueXattr: string, readonly shift?: IdShift) {
    this.maxPathBytes = 4095 - Buffer.byteLength(root) - 1 - FINAL_PLACE_HEADROOM;
    this.dirs = new LayerDirs(root, { pathBytes: this.maxPathBytes, depth: MAX_PATH_DEPTH });
    this.rootFd = openSync(root, C.O_RDONLY | C.O_DIRECTORY);
  }

  abs(rel: string): string {
    return this.dirs.abs(rel);
  }

  close(): void { closeSync(this.rootFd); }

  /** Removes whatever is at `rel` so a new entry can take its place (tar semantics: last one wins). */
  clear(rel: string): void {
    const p = this.abs(rel);
    try {
      unlinkSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EISDIR' && code !== 'EPERM') throw e;
      rmSync(p, { recursive: true, force: true });
    }
    // A directory or a symlink may have gone: cached resolutions through it are stale. Directories
    // that were in it get no times at the end: another entry (a symlink?) may hold their path now.
    this.dirs.forget();
    const under = `${rel}/`;
    this.dirTimes = this.dirTimes.filter((d) => d.rel !== rel && !d.rel.startsWith(under));
    // Nor owners: the paths they were recorded under may be something else now.
    for (const p of this.owned.keys()) if (p === rel || p.startsWith(under)) this.owned.delete(p);
  }

  /** Runs `create`, and if the name is taken removes the old entry and runs it once more. */
  createReplacing<T>(rel: string, create: () => T): T {
    try {
      return create();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' && !(e instanceof TsrunError && e.details.errno === 'EEXIST')) throw e;
      this.clear(rel);
      return create();
    }
  }

  directory(rel: string, h: Header): void {
    if (!this.dirs.isKnown(rel)) {
      try {
        mkdirat(this.rootFd, rel, 0o700, this.root);
      } catch (e) {
        if (!(e instanceof TsrunError && e.details.errno === 'EEXIST')) throw e;
        if (!lstatSync(this.abs(rel)).isDirectory()) { this.clear(rel); mkdirat(this.rootFd, rel, 0o700, this.root); }
      }
      this.dirs.markKnown(rel);
    }
    this.ownAndMode(rel, h);
    this.recordOwner(rel, h, -1); // a chown keeps a directory's setgid bit
    if (h.mode & 0o2000) this.dirs.setgid.add(rel);
    else this.dirs.setgid.delete(rel);
    this.xattrs(rel, h);
    this.dirTimes.push({ rel, atime: h.atime, mtime: h.mtime });
  }

  /**
   * Opens a new regular file for an entry; the caller writes the data and calls finishFile. The file
   * is created with its final permission bits (unpackLayer runs with umask 0).
   */
  openFile(rel: string, h: Header): number {
    this.checkSize(h);
    return this.createReplacing(rel, () => openat(this.rootFd, rel, CREATE_FLAGS, h.mode & 0o777, this.root));
  }

  /**
   * Owner, special mode bits and times. Most image files are owned by root, as we are: their fchown
   * and fchmod are skipped (two of six syscalls per file, measured ~15% of an unpack).
   */
  finishFile(fd: number, rel: string, h: Header): void {
    try {
      const chown = this.asRoot && (h.uid !== this.euid || h.gid !== this.egid || (this.dirs.setgid.size > 0 && this.dirs.setgid.has(parentOf(rel))));
      if (chown) fchownSync(fd, h.uid, h.gid);
      if (h.mode & 0o7000 || !this.exactModes) fchmodSync(fd, h.mode); // after fchown, which clears setuid/setgid
      futimens(fd, h.atime, h.mtime, rel, this.root);
    } finally {
      close(fd, rel, this.root);
    }
    this.recordOwner(rel, h, h.mode & 0o6000 ? h.mode & 0o7777 : -1);
    this.xattrs(rel, h);
  }

  symlink(rel: string, h: Header): void {
    // The target is stored as-is and never followed here: it is resolved later, inside the container.
    this.createReplacing(rel, () => symlinkat(h.linkname, this.rootFd, rel, this.root));
    if (this.asRoot) fchownat(this.rootFd, rel, h.uid, h.gid, AT_SYMLINK_NOFOLLOW, this.root);
    this.recordOwner(rel, h, -1);
    utimensat(this.rootFd, rel, h.atime, h.mtime, AT_SYMLINK_NOFOLLOW, this.root);
    this.xattrs(rel, h);
  }

  hardlink(rel: string, h: Header): void {
    const target = entryPath(h.linkname, 'hard link target');
    if (target === '') throw hostile(h.name, 'hard link to the layer root');
    // The target's parent is resolved like an entry's (never created); the target itself is not
    // followed: link(2) links a symlink, not what it points to.
    const targetRel = childOf(this.dirs.resolve(parentOf(target), h.name, false), baseOf(target));
    const targetPath = this.abs(targetRel);
    try {
      lstatSync(targetPath);
    } catch {
      throw hostile(h.name, `hard link target '${h.linkname}' is not in this layer`);
    }
    this.createReplacing(rel, () => linkSync(targetPath, this.abs(rel)));
    // The same inode: its owner is the target's, also if the target's path is replaced later.
    const owner = this.owned.get(targetRel);
    if (owner) this.owned.set(rel, { ...owner, path: rel });
    else this.owned.delete(rel);
  }

  node(rel: string, h: Header, type: number): void {
    // A user cannot make device nodes (mknod needs CAP_MKNOD in the host's user namespace, and a
    // container's user namespace could not open them anyway); the runtime binds /dev's nodes in.
    // FIFOs and whiteouts (0/0, allowed since 5.8) are made as usual.
    if (!this.asRoot && type !== S_IFIFO) return;
    this.createReplacing(rel, () => mknod(this.abs(rel), type | 0o600, h.devmajor ?? 0, h.devminor ?? 0));
    this.ownAndMode(rel, h);
    this.recordOwner(rel, h, -1);
    utimensat(this.rootFd, rel, h.atime, h.mtime, AT_SYMLINK_NOFOLLOW, this.root);
    this.xattrs(rel, h);
  }

  /** `.wh.NAME`: overlayfs hides NAME of the layers below when it sees a 0/0 character device. */
  whiteout(dirRel: string, hidden: string, h: Header): void {
    if (hidden === '' || hidden === '.' || hidden === '..') throw hostile(h.name, 'whiteout of no name');
    const rel = childOf(dirRel, hidden);
    this.createReplacing(rel, () => mknod(this.abs(rel), S_IFCHR | 0o600, 0, 0));
  }

  /** `.wh..wh..opq`: the directory hides everything of the layers below it. */
  opaque(dirRel: string): void {
    lsetxattr(this.abs(dirRel), this.opaqueXattr, Buffer.from('y'));
  }

  /**
   * Not root: an owner inside other than root is a chown for later (in the user namespace, where the
   * subordinate ids exist), or without a shift one more file that becomes the user's own. Root's
   * files need nothing: root inside is the user outside, who made them.
   */
  private recordOwner(rel: string, h: Header, mode: number): void {
    if (this.asRoot) return;
    if (!this.shift) { if (h.uid !== 0 || h.gid !== 0) this.ownersNotKept++; return; }
    const problem = ownerProblem(this.shift, h.uid, h.gid);
    if (problem) throw new TsrunError(`layer entry ${JSON.stringify(h.name)}: ${problem}`, { file: h.name });
    if (h.uid === 0 && h.gid === 0) this.owned.delete(rel); // made with the user's own ids: root's inside
    else this.owned.set(rel, { path: rel, uid: h.uid, gid: h.gid, mode });
  }

  /** Of a directory or node just made (never a symlink: fchmodat would follow it). */
  private ownAndMode(rel: string, h: Header): void {
    const at = rel === '' ? '.' : rel;
    if (this.asRoot) fchownat(this.rootFd, at, h.uid, h.gid, AT_SYMLINK_NOFOLLOW, this.root);
    fchmodat(this.rootFd, at, h.mode, this.root);
  }

  private xattrs(rel: string, h: Header): void {
    const xs = h.xattrs;
    if (!xs) return;
    for (const [name, value] of xs) {
      if (FORBIDDEN_XATTR.test(name)) throw hostile(h.name, `sets overlayfs' own xattr ${name}`);
      if (name === FILE_CAPS && this.shift && !this.asRoot) this.deferCaps(rel, h, value);
      else lsetxattr(this.abs(rel), name, value);
    }
  }

  /**
   * File capabilities, in a shifted store: a user may not set them (CAP_SETFCAP of the host), and the
   * chown would clear them anyway. Set after it, as root of the user namespace: the kernel stores
   * them for that namespace's root (v3), so they work in the user's containers and nowhere else.
   */
  private deferCaps(rel: string, h: Header, value: Buffer): void {
    const e = this.owned.get(rel) ?? { path: rel, uid: h.uid, gid: h.gid, mode: h.type === 'file' && h.mode & 0o6000 ? h.mode & 0o7777 : -1 };
    this.owned.set(rel, { ...e, xattrs: [...(e.xattrs ?? []), { name: FILE_CAPS, value: value.toString('base64') }] });
  }

  checkSize(h: Header): void {
    if (h.size > this.limits.maxEntryBytes) throw hostile(h.name, `size ${h.size} exceeds the limit of ${this.limits.maxEntryBytes} bytes`);
    this.bytes += h.size;
    if (this.bytes > this.limits.maxLayerBytes) throw hostile(h.name, `layer exceeds the limit of ${this.limits.maxLayerBytes} bytes`);
  }

  /** Directory mtimes last: creating children would otherwise bump them. */
  finish(): void {
    for (let i = this.dirTimes.length - 1; i >= 0; i--) {
      const d = this.dirTimes[i]!;
      utimensat(this.rootFd, d.rel === '' ? '.' : d.rel, d.atime, d.mtime, AT_SYMLINK_NOFOLLOW, this.root);
    }
  }
}

/** Refuses a path (the entry's name, or where it resolved to) the store could not handle again. */
function checkPathSize(w: LayerWriter, h: Header, path: string): void {
  // Most paths are short: byteLength (and counting components) only when they could matter.
  if (path.length * 3 > w.maxPathBytes) {
    const bytes = Buffer.byteLength(path);
    if (bytes > w.maxPathBytes) throw hostile(h.name, `its path in the layer is ${bytes} bytes; at most ${w.maxPathBytes} (PATH_MAX, less the store's own path)`);
  }
  if (path.length > 2 * MAX_PATH_DEPTH && path.split('/').length > MAX_PATH_DEPTH) {
    throw hostile(h.name, `it is nested ${path.split('/').length} directories deep; at most ${MAX_PATH_DEPTH}`);
  }
}

/** Applies an entry; for a regular file (whose data follows) only returns its path in the layer. */
function applyEntry(w: LayerWriter, h: Header): string | undefined {
  if (++w.entries > w.limits.maxEntries) throw hostile(h.name, `more than ${w.limits.maxEntries} entries`);
  const name = entryPath(h.name);
  if (name === '' && h.type !== 'directory') throw hostile(h.name, 'only a directory can be the layer root');
  checkPathSize(w, h, name);
  // The parent as the container will see it; the last component itself is never followed.
  const parent = parentOf(name);
  const dir = name === '' ? '' : w.dirs.resolve(parent, h.name);
  const base = baseOf(name);
  const rel = name === '' ? '' : dir === parent ? name : childOf(dir, base);
  if (rel !== name) checkPathSize(w, h, rel);
  if (base.startsWith(WHITEOUT_PREFIX)) {
    if (base === OPAQUE_MARKER) w.opaque(dir);
    else if (!base.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) w.whiteout(dir, base.slice(WHITEOUT_PREFIX.length), h);
    // Other `.wh..wh.*` names are aufs bookkeeping (e.g. `.wh..wh.plnk`) with no meaning here.
    return undefined;
  }
  switch (h.type) {
    case 'file': return rel;
    case 'directory': w.directory(rel, h); break;
    case 'symlink': w.symlink(rel, h); break;
    case 'link': w.hardlink(rel, h); break;
    case 'character-device': w.node(rel, h, S_IFCHR); break;
    case 'block-device': w.node(rel, h, S_IFBLK); break;
    case 'fifo': w.node(rel, h, S_IFIFO); break;
  }
  return undefined;
}

/**
 * Unpacks an (uncompressed) layer tar, given as a stream or any async iterable of chunks (each chunk
 * is consumed before the next is asked for, so a reader may reuse its buffer), into `root`, which
 * must exist and be empty. Rejects with a TsrunError on a hostile or broken archive; `root` is then
 * left for the caller to remove.
 */
export async function unpackLayer(tar: Readable | AsyncIterable<Buffer>, root: string, options: UnpackOptions = {}): Promise<UnpackResult> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const w = new LayerWriter(root, limits, options.opaqueXattr ?? opaqueXattrFor(), options.shift);
  let fd = -1;
  let rel = '';
  const parser = new TarParser({
    entry(h) {
      const file = applyEntry(w, h);
      if (file === undefined) return undefined;
      rel = file;
      fd = w.openFile(rel, h);
      return (data) => writeAll(fd, data, rel, root);
    },
    entryEnd(h) {
      const f = fd;
      fd = -1;
      w.finishFile(f, rel, h);
    },
  });
  // Files are created with their final permission bits, saving an fchmod per file. (A worker thread
  // may not change the umask: there every file gets its fchmod.)
  let umask: number | undefined;
  try { umask = process.umask(0); } catch { w.exactModes = false; }
  try {
    for await (const chunk of tar) parser.push(chunk as Buffer);
    parser.end();
    w.finish();
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    if ('destroy' in tar) tar.destroy();
    throw e;
  } finally {
    if (umask !== undefined) process.umask(umask);
    w.close();
  }
  return {
    entries: w.entries, bytes: w.bytes,
    ...(options.shift ? { owned: [...w.owned.values()] } : {}),
    ...(w.ownersNotKept ? { ownersNotKept: w.ownersNotKept } : {}),
  };
}
