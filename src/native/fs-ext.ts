// File-system syscalls Node's `fs` lacks, called in libc through koffi: extended attributes on the
// link itself (l*xattr, so a symlink in an image never redirects us), mknod for device nodes,
// fifos and overlay whiteouts, and the *at() calls that create and change entries relative to an
// open directory (the kernel then walks only the relative part of a path, not the directory's own
// path again). Bound lazily so commands that never unpack an image never load libc.
import { lazyFunctions, loadKoffi } from './koffi.js';
import { TsrunError } from '../errors.js';
import { errnoName } from './errno.js';

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

interface LibcFs {
  lsetxattr: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
  lgetxattr: (path: string, name: string, value: Buffer | null, size: number) => number;
  llistxattr: (path: string, list: Buffer | null, size: number) => number;
  mknod: (path: string, mode: number, dev: bigint) => number;
  openat: (dirfd: number, path: string, flags: number, ...mode: unknown[]) => number;
  mkdirat: (dirfd: number, path: string, mode: number) => number;
  symlinkat: (target: string, dirfd: number, path: string) => number;
  fchownat: (dirfd: number, path: string, uid: number, gid: number, flags: number) => number;
  fchmodat: (dirfd: number, path: string, mode: number, flags: number) => number;
  utimensat: (dirfd: number, path: string, times: Buffer, flags: number) => number;
  futimens: (fd: number, times: Buffer) => number;
  write: (fd: number, data: Buffer, size: number) => number;
  close: (fd: number) => number;
}

let libc: LibcFs | undefined;

function bind(): LibcFs {
  if (libc) return libc;
  const lib = loadKoffi().load('libc.so.6');
  libc = lazyFunctions<LibcFs>(lib, {
    lsetxattr: 'int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
    lgetxattr: 'intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)',
    llistxattr: 'intptr_t llistxattr(const char *path, _Out_ char *list, size_t size)',
    mknod: 'int mknod(const char *path, uint32_t mode, uint64_t dev)',
    openat: 'int openat(int dirfd, const char *path, int flags, ...)', // variadic in libc
    mkdirat: 'int mkdirat(int dirfd, const char *path, uint32_t mode)',
    symlinkat: 'int symlinkat(const char *target, int dirfd, const char *path)',
    fchownat: 'int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)',
    fchmodat: 'int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)',
    utimensat: 'int utimensat(int dirfd, const char *path, const void *times, int flags)',
    futimens: 'int futimens(int fd, const void *times)',
    write: 'intptr_t write(int fd, const void *data, size_t size)',
    close: 'int close(int fd)',
  });
  return libc;
}

/** errno name (`EPERM`) for the errno koffi saved after the last call. */
const lastErrno = (): string => errnoName(loadKoffi().errno());

function fail(syscall: string, path: string, extra = ''): never {
  const errno = lastErrno();
  throw new TsrunError(`${syscall} ${path}${extra}: ${errno}`, { syscall, errno, file: path });
}

/** glibc's makedev: the 64-bit dev_t layout Linux uses. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

/** mknod(2). `mode` includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO). Subject to the umask. */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  if (bind().mknod(path, mode, makedev(major, minor)) !== 0) fail('mknod', path);
}

/** lsetxattr(2): sets an xattr on the path itself, never on a symlink's target. */
export function lsetxattr(path: string, name: string, value: Buffer): void {
  if (bind().lsetxattr(path, name, value, value.length, 0) !== 0) fail('lsetxattr', path, ` (${name})`);
}

/** Names of the xattrs of a path (not following a final symlink). */
export function llistxattr(path: string): string[] {
  const c = bind();
  const size = c.llistxattr(path, null, 0);
  if (size < 0) fail('llistxattr', path);
  if (size === 0) return [];
  const buf = Buffer.alloc(size);
  const got = c.llistxattr(path, buf, size);
  if (got < 0) fail('llistxattr', path);
  return buf.subarray(0, got).toString('utf8').split('\0').filter((n) => n !== '');
}

/** The value of one xattr, or undefined if the path does not have it. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const c = bind();
  const size = c.lgetxattr(path, name, null, 0);
  if (size < 0) {
    if (lastErrno() === 'ENODATA') return undefined;
    fail('lgetxattr', path, ` (${name})`);
  }
  const buf = Buffer.alloc(size);
  const got = size === 0 ? 0 : c.lgetxattr(path, name, buf, size);
  if (got < 0) fail('lgetxattr', path, ` (${name})`);
  return buf.subarray(0, got);
}

/** Do not follow a final symlink (fchownat, utimensat). */
export const AT_SYMLINK_NOFOLLOW = 0x100;

// In errors a path relative to a directory fd is shown under the directory's own path (`dir`).
const shown = (dir: string | undefined, path: string): string => (dir === undefined ? path : path === '.' ? dir : `${dir}/${path}`);

/** openat(2) with O_CREAT's mode; returns the fd. */
export function openat(dirfd: number, path: string, flags: number, mode: number, dir?: string): number {
  const fd = bind().openat(dirfd, path, flags, 'uint32_t', mode);
  if (fd < 0) fail('openat', shown(dir, path));
  return fd;
}

/** mkdirat(2). Subject to the umask. */
export function mkdirat(dirfd: number, path: string, mode: number, dir?: string): void {
  if (bind().mkdirat(dirfd, path, mode) !== 0) fail('mkdirat', shown(dir, path));
}

/** symlinkat(2): `path` (relative to `dirfd`) becomes a symlink holding `target`, which is not looked at. */
export function symlinkat(target: string, dirfd: number, path: string, dir?: string): void {
  if (bind().symlinkat(target, dirfd, path) !== 0) fail('symlinkat', shown(dir, path));
}

/** fchownat(2); with AT_SYMLINK_NOFOLLOW it changes a final symlink itself. */
export function fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number, dir?: string): void {
  if (bind().fchownat(dirfd, path, uid, gid, flags) !== 0) fail('fchownat', shown(dir, path));
}

/** fchmodat(2) (follows a final symlink: Linux cannot change a symlink's mode). */
export function fchmodat(dirfd: number, path: string, mode: number, dir?: string): void {
  if (bind().fchmodat(dirfd, path, mode, 0) !== 0) fail('fchmodat', shown(dir, path));
}

const times = Buffer.alloc(32); // struct timespec[2]: access, modification

/** Seconds as libuv passes them to utimensat (what fs.utimesSync sets): microseconds kept, the rest dropped. */
function putTimespec(at: number, t: number): void {
  let sec = Math.trunc(t);
  let nsec = Math.trunc((t - sec) * 1e9);
  nsec -= nsec % 1000;
  if (nsec < 0) { nsec += 1e9; sec -= 1; }
  times.writeUInt32LE(sec >>> 0, at); // int64 as two halves: no BigInt per call
  times.writeInt32LE(Math.floor(sec / 2 ** 32), at + 4);
  times.writeUInt32LE(nsec, at + 8);
  times.writeUInt32LE(0, at + 12);
}

/** utimensat(2) with times in seconds since the epoch, as fs.utimesSync takes them. */
export function utimensat(dirfd: number, path: string, atime: number, mtime: number, flags: number, dir?: string): void {
  putTimespec(0, atime);
  putTimespec(16, mtime);
  if (bind().utimensat(dirfd, path, times, flags) !== 0) fail('utimensat', shown(dir, path));
}

// For the fd calls below, `path` (under `dir`) only names the file in errors.

/** futimens(2) with times in seconds, as fs.futimesSync takes them. */
export function futimens(fd: number, atime: number, mtime: number, path: string, dir?: string): void {
  putTimespec(0, atime);
  putTimespec(16, mtime);
  if (bind().futimens(fd, times) !== 0) fail('futimens', shown(dir, path));
}

/** write(2) of all of `data` (which may lie in shared memory). */
export function writeAll(fd: number, data: Buffer, path: string, dir?: string): void {
  const c = bind();
  for (let off = 0; off < data.length;) {
    const n = c.write(fd, off === 0 ? data : data.subarray(off), data.length - off);
    if (n < 0) {
      if (lastErrno() === 'EINTR') continue;
      fail('write', shown(dir, path));
    }
    off += n;
  }
}

/** close(2). */
export function close(fd: number, path: string, dir?: string): void {
  if (bind().close(fd) !== 0) fail('close', shown(dir, path));
}
