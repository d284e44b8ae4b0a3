// mount(2)'s MS_* flags by the names mount(8) and config.json's mounts[].options give them
// (include/uapi/linux/mount.h): which set a flag, which clear one, which change propagation.
import { MS } from './linux.js';

/** Options that set a flag. */
export const MOUNT_FLAG_SET: Readonly<Record<string, number>> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT, mand: MS.MANDLOCK, dirsync: MS.DIRSYNC, noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, strictatime: MS.STRICTATIME, nosymfollow: MS.NOSYMFOLLOW,
  lazytime: MS.LAZYTIME, silent: MS.SILENT,
  // runtime-spec 1.1's recursive attributes: a recursive bind's flags already reach every mount below
  // it (rootfs/plan.ts), so these are the plain flags; a new filesystem has nothing below it yet.
  rro: MS.RDONLY, rnosuid: MS.NOSUID, rnodev: MS.NODEV, rnoexec: MS.NOEXEC,
};

/** Options that clear a flag. */
export const MOUNT_FLAG_CLEAR: Readonly<Record<string, number>> = {
  rw: MS.RDONLY, suid: MS.NOSUID, dev: MS.NODEV, exec: MS.NOEXEC, async: MS.SYNCHRONOUS, nomand: MS.MANDLOCK,
  atime: MS.NOATIME, diratime: MS.NODIRATIME, norelatime: MS.RELATIME, nostrictatime: MS.STRICTATIME,
  symfollow: MS.NOSYMFOLLOW, nolazytime: MS.LAZYTIME, loud: MS.SILENT, defaults: 0,
};

/** Propagation types (mounts[].options and linux.rootfsPropagation), each set by a mount call of its own. */
export const MOUNT_PROPAGATION: Readonly<Record<string, number>> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/** The names of the flags set in `flags`, for people: `ro,nosuid,nodev`. */
export function mountFlagNames(flags: number): string[] {
  const names: string[] = [];
  const all: Record<string, number> = { ...MOUNT_FLAG_SET, bind: MS.BIND, rec: MS.REC, move: MS.MOVE, private: MS.PRIVATE, shared: MS.SHARED, slave: MS.SLAVE, unbindable: MS.UNBINDABLE };
  for (const [name, bit] of Object.entries(all)) if (flags & bit) names.push(name);
  return names;
}
