// Flattening an image's layers into one plain directory tree (for `tsrun image unpack`, like
// `umoci unpack`): layers are applied bottom first with overlayfs' rules — a whiteout removes what is
// below, an opaque directory hides everything below it, a directory over a non-directory replaces it.
// Never follows a symlink in the target: every parent is created (or checked) as a real directory.
import { opaqueXattrFor } from './store-paths.js';
import {
  chmodSync, chownSync, copyFileSync, constants as C, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync,
  readdirSync, readlinkSync, rmSync, symlinkSync, utimesSync, type Stats,
} from 'node:fs';
import { lgetxattr, llistxattr, lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../native/fs-ext.js';

const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;

function lstat(p: string): Stats | undefined {
  try { return lstatSync(p); } catch { return undefined; }
}

const major = (rdev: number): number => Number((BigInt(rdev) >> 8n) & 0xfffn | ((BigInt(rdev) >> 32n) & ~0xfffn));
const minor = (rdev: number): number => Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));

class Flattener {
  private readonly dirTimes = new Map<string, { atime: Date; mtime: Date }>();
  private readonly asRoot = process.getuid?.() === 0;

  constructor(readonly target: string, readonly opaqueXattr: string) {}

  /** Applies one layer directory over the target. */
  apply(layer: string): void {
    const links = new Map<string, string>(); // "dev:ino" → first target path, to keep hard links
    this.walk(layer, '', links);
  }

  private walk(layerDir: string, rel: string, links: Map<string, string>): void {
    for (const name of readdirSync(`${layerDir}${rel ? '/' + rel : ''}`)) {
      const r = rel ? `${rel}/${name}` : name;
      const src = `${layerDir}/${r}`;
      const dst = `${this.target}/${r}`;
      const st = lstatSync(src);
      const old = lstat(dst);
      if (st.isCharacterDevice() && st.rdev === 0) { // whiteout
        if (old) rmSync(dst, { recursive: true, force: true });
        continue;
      }
      if (st.isDirectory()) {
        const opaque = lgetxattr(src, this.opaqueXattr)?.toString() === 'y';
        if (old && (!old.isDirectory() || opaque)) rmSync(dst, { recursive: true, force: true });
        if (!old || !old.isDirectory() || opaque) mkdirSync(dst, 0o700);
        this.meta(src, dst, st);
        this.dirTimes.set(dst, { atime: st.atime, mtime: st.mtime });
        this.walk(layerDir, r, links);
        continue;
      }
      if (old) rmSync(dst, { recursive: true, force: true });
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first) { linkSync(first, dst); continue; }
      if (st.nlink > 1) links.set(key, dst);
      if (st.isSymbolicLink()) {
        symlinkSync(readlinkSync(src), dst);
        if (this.asRoot) lchownSync(dst, st.uid, st.gid);
        this.xattrs(src, dst);
        lutimesSync(dst, st.atime, st.mtime);
        continue;
      }
      if (st.isFile()) copyFileSync(src, dst, C.COPYFILE_FICLONE);
      else if (st.isCharacterDevice()) mknod(dst, S_IFCHR | 0o600, major(st.rdev), minor(st.rdev));
      else if (st.isBlockDevice()) mknod(dst, S_IFBLK | 0o600, major(st.rdev), minor(st.rdev));
      else if (st.isFIFO()) mknod(dst, S_IFIFO | 0o600);
      else continue; // sockets have no place in an image
      this.meta(src, dst, st);
      utimesSync(dst, st.atime, st.mtime);
    }
  }

  private meta(src: string, dst: string, st: Stats): void {
    if (this.asRoot) chownSync(dst, st.uid, st.gid);
    chmodSync(dst, st.mode & 0o7777); // after chown, which clears setuid/setgid
    this.xattrs(src, dst);
  }

  private xattrs(src: string, dst: string): void {
    for (const name of llistxattr(src)) {
      if (OVERLAY_XATTR.test(name)) continue;
      const v = lgetxattr(src, name);
      if (v) lsetxattr(dst, name, v);
    }
  }

  /** Directory times last, since filling a directory changes its mtime. */
  finish(): void {
    // A later layer may have removed a directory (whiteout, opaque parent) or put a file in its place.
    for (const [p, t] of this.dirTimes) if (lstat(p)?.isDirectory()) utimesSync(p, t.atime, t.mtime);
  }
}

/** Writes the merged view of `lowerDirs` (top first) into `target`, which must exist and be empty. */
export function flattenLayers(lowerDirs: string[], target: string, opaqueXattr = opaqueXattrFor()): void {
  const f = new Flattener(target, opaqueXattr);
  for (const layer of [...lowerDirs].reverse()) {
    // The root directory's own metadata comes from the topmost layer, as overlayfs shows it.
    if (layer === lowerDirs[0]) {
      const st = lstatSync(layer);
      chownSync(target, st.uid, st.gid);
      chmodSync(target, st.mode & 0o7777);
    }
    f.apply(layer);
  }
  f.finish();
  const top = lstatSync(lowerDirs[0]!);
  utimesSync(target, top.atime, top.mtime);
}
