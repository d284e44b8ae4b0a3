// Whether a namespace config.json joins by path is the caller's own. Joining one's own namespace is
// the same as having none of the container's: a sysctl written there, a hostname set there, a path
// masked there changes the caller's (the host's, when the caller is the host) — so validate.ts treats
// such a join as "shared with the caller". The kernel names a namespace by the device and inode of
// its nsfs file; the same pair as /proc/self/ns/<name> means the same namespace (runc compares them
// for the network namespace the same way). Runs once per create, before anything is made.
import { statSync } from 'node:fs';
import type { NamespaceType } from './types.js';

export type JoinedNamespace =
  | { kind: 'callers' }
  | { kind: 'other' }
  /** The path cannot be joined at all: `problem` says why, for the error naming the field. */
  | { kind: 'invalid'; problem: string };

/** Host facts the validator asks about the namespaces a config joins by path. */
export interface CallerNamespaces {
  identify(type: NamespaceType, path: string): JoinedNamespace;
}

/** The /proc/self/ns entry of each type. */
const PROC_NS_NAME: Record<NamespaceType, string> = {
  pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
};

function errnoOf(err: unknown): string {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : String(err);
}

/** The namespaces of this process (tsrun, whose children the container's processes are). */
export const thisProcessNamespaces: CallerNamespaces = {
  identify(type, path) {
    let joined;
    try {
      joined = statSync(path);
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'invalid', problem: `${path} does not exist` };
      return { kind: 'invalid', problem: `${path} cannot be read (${code})` };
    }
    // A kernel without this namespace type has no entry: setns will say so, nothing to compare here.
    const own = statSync(`/proc/self/ns/${PROC_NS_NAME[type]}`, { throwIfNoEntry: false });
    if (own === undefined) return { kind: 'other' };
    // Every namespace file lives on the one nsfs filesystem: another device is some other file.
    if (joined.dev !== own.dev) return { kind: 'invalid', problem: `${path} is not a namespace (it is not on nsfs, like /proc/<pid>/ns/${PROC_NS_NAME[type]})` };
    return joined.ino === own.ino ? { kind: 'callers' } : { kind: 'other' };
  },
};
