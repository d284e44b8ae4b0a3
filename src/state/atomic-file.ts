// Replacing a file so that a reader sees the old content or the new, never half of it, and so that
// nothing planted in the directory can redirect the write: the data goes to a new file with an
// unpredictable name, created with O_EXCL|O_NOFOLLOW (a symlink or file already there makes the open
// fail instead of being followed or reused), which is then renamed over the target. rename(2)
// replaces a symlink at the target; it never writes through it.
import { closeSync, constants, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomHex } from '../host/random.js';

// (libuv adds O_CLOEXEC to every open.)
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** `<dir>/.<name>.<16 random hex>.tmp`, next to `path` so that the rename stays on its file system. */
export function tempNameFor(path: string): string {
  const random = randomHex(8);
  return join(dirname(path), `.${basename(path)}.${random}.tmp`);
}

/** Opens a new temp file for `path`; a name already taken (planted, or a collision) is skipped. */
function openTemp(path: string, mode: number): { fd: number; tmp: string } {
  for (let attempt = 0; ; attempt++) {
    const tmp = tempNameFor(path);
    try {
      return { fd: openSync(tmp, CREATE_NEW, mode), tmp };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 7) throw err;
    }
  }
}

/**
 * Writes `data` to `path` through a temp file and rename. `mode` is that of the new file (less the
 * umask), whatever mode an earlier file at `path` had. Throws the fs error; no temp file is left.
 */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  const { fd, tmp } = openTemp(path, mode);
  try {
    try {
      const buf = Buffer.from(data);
      for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* renamed, or never made */ }
    throw err;
  }
}
