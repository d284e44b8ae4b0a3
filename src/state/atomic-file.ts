// Replacing a file so that a reader sees the old content or the new, never half of it, and so that
// nothing planted in the directory can redirect the write: the data goes to a new file with an
// unpredictable name, created with O_EXCL|O_NOFOLLOW (a symlink or file already there makes the open
// fail instead of being followed or reused), which then takes the target's name. Neither rename(2)
// nor an exchange writes through a symlink at the target: they replace or move the link itself.
//
// Why an exchange when the native shim is loaded: on these hosts' ext4 (/run is not a tmpfs here), a
// file renamed *over* another is ~150-350 us slower to unlink later than one that took a free name
// or swapped names with the old file (measured: unlink 5-7 us after an exchange, 120-380 us after a
// rename over; the state dir of every library run() is written twice and then removed). So the new
// file swaps names with the old one (renameat2 RENAME_EXCHANGE), and the old one, now at the temp
// name, is unlinked. No old file (ENOENT), a file system without exchanges (EINVAL), or no shim
// loaded (a command that would pay koffi's load for it): rename(2), as before.
import { closeSync, constants, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomHex } from '../host/random.js';
import { isLoaded, renameExchange } from '../native/shim.js';

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

/** Writes all of `data` at `fd`'s offset (writeSync may write less than asked). */
export function writeAll(fd: number, data: string): void {
  const buf = Buffer.from(data);
  for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
}

/**
 * Writes `data` to `path` through a temp file that takes its name. `mode` is that of the new file
 * (less the umask), whatever mode an earlier file at `path` had. Throws the fs error (a directory at
 * `path`: EISDIR, as rename(2) says); no temp file is left.
 */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  const { fd, tmp } = openTemp(path, mode);
  try {
    try {
      writeAll(fd, data);
    } finally {
      closeSync(fd);
    }
    if (!(isLoaded() && exchanged(tmp, path))) renameSync(tmp, path);
  } catch (err) {
    try { unlinkSync(tmp); } catch { /* renamed, or never made */ }
    throw err;
  }
}

/** The new file at `tmp` swapped names with the old one at `path`, which is then removed. False: not swapped (no old file, or no exchange here). */
function exchanged(tmp: string, path: string): boolean {
  if (renameExchange(tmp, path) !== 'swapped') return false;
  try {
    unlinkSync(tmp);
  } catch (err) {
    // Not a file that was there (a directory): it goes back to its name, and the write fails as a rename would.
    renameExchange(tmp, path);
    throw err;
  }
  return true;
}
