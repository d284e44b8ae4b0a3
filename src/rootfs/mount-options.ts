// The `options` of a config.json mount, split the way mount(2) wants them: flags that set, flags
// that clear, propagation, and the rest joined into the filesystem's data string. Pure.
import { MS } from '../native/constants.js';

export interface ParsedMountOptions {
  /** MS_* flags for the mount call (ro, nosuid, …). */
  flags: number;
  /** Propagation flags applied by a separate mount call (MS_SHARED/PRIVATE/SLAVE/UNBINDABLE [|REC]). */
  propagation: number;
  bind: boolean;
  recursive: boolean;
  /** Options the kernel does not know as flags: passed to the filesystem as data (`mode=755,size=65536k`). */
  data: string[];
}

const SET: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT, mand: MS.MANDLOCK, dirsync: MS.DIRSYNC, noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, strictatime: MS.STRICTATIME, nosymfollow: MS.NOSYMFOLLOW,
  lazytime: MS.LAZYTIME, silent: MS.SILENT,
  // runtime-spec 1.1's recursive attributes: a recursive bind's flags already reach every mount below
  // it (rootfs/plan.ts), so these are the plain flags; a new filesystem has nothing below it yet.
  rro: MS.RDONLY, rnosuid: MS.NOSUID, rnodev: MS.NODEV, rnoexec: MS.NOEXEC,
};
const CLEAR: Record<string, number> = {
  rw: MS.RDONLY, suid: MS.NOSUID, dev: MS.NODEV, exec: MS.NOEXEC, async: MS.SYNCHRONOUS, nomand: MS.MANDLOCK,
  atime: MS.NOATIME, diratime: MS.NODIRATIME, norelatime: MS.RELATIME, nostrictatime: MS.STRICTATIME,
  symfollow: MS.NOSYMFOLLOW, nolazytime: MS.LAZYTIME, loud: MS.SILENT, defaults: 0,
};
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

/**
 * Options handled by the runtime itself, not the kernel (accepted and ignored for now). None of them
 * restricts the container: ignoring rrw keeps a mount stricter than asked, and without idmap a
 * mount's files keep their host owners (unmapped: "nobody" inside a user namespace).
 */
const RUNTIME_ONLY = new Set(['tmpcopyup', 'idmap', 'ridmap', 'rrw']);

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, propagation: 0, bind: false, recursive: false, data: [] };
  for (const opt of options) {
    if (opt === 'bind' || opt === 'rbind') {
      out.bind = true;
      out.recursive ||= opt === 'rbind';
    } else if (opt in SET) {
      out.flags |= SET[opt]!;
    } else if (opt in CLEAR) {
      out.flags &= ~CLEAR[opt]!;
    } else if (opt in PROPAGATION) {
      out.propagation = PROPAGATION[opt]!;
    } else if (!RUNTIME_ONLY.has(opt)) {
      out.data.push(opt);
    }
  }
  return out;
}

/** The names of the flags set in `flags`, for people: `ro,nosuid,nodev`. */
export function mountFlagNames(flags: number): string[] {
  const names: string[] = [];
  const all: Record<string, number> = { ...SET, bind: MS.BIND, rec: MS.REC, move: MS.MOVE, private: MS.PRIVATE, shared: MS.SHARED, slave: MS.SLAVE, unbindable: MS.UNBINDABLE };
  for (const [name, bit] of Object.entries(all)) if (flags & bit) names.push(name);
  return names;
}
