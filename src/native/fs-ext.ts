// File-system syscalls Node's `fs` lacks, called in libc through koffi: extended attributes on the
// link itself (l*xattr, so a symlink in an image never redirects us) and mknod for device nodes,
// fifos and overlay whiteouts. Bound lazily so commands that never unpack an image never load libc.
import { loadKoffi } from './koffi.js';
import { TsrunError } from '../errors.js';

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

interface LibcFs {
  lsetxattr: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
  lgetxattr: (path: string, name: string, value: Buffer | null, size: number) => number;
  llistxattr: (path: string, list: Buffer | null, size: number) => number;
  mknod: (path: string, mode: number, dev: bigint) => number;
}

let libc: LibcFs | undefined;

function bind(): LibcFs {
  if (libc) return libc;
  const lib = loadKoffi().load('libc.so.6');
  libc = {
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ char *list, size_t size)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  };
  return libc;
}

/** errno name (`EPERM`) for the errno koffi saved after the last call. */
function errnoName(): string {
  const code = loadKoffi().errno();
  for (const [name, value] of Object.entries(loadKoffi().os.errno)) if (value === code) return name;
  return `errno ${code}`;
}

function fail(syscall: string, path: string, extra = ''): never {
  const errno = errnoName();
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
    if (errnoName() === 'ENODATA') return undefined;
    fail('lgetxattr', path, ` (${name})`);
  }
  const buf = Buffer.alloc(size);
  const got = size === 0 ? 0 : c.lgetxattr(path, name, buf, size);
  if (got < 0) fail('lgetxattr', path, ` (${name})`);
  return buf.subarray(0, got);
}
