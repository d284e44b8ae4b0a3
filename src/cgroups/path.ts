// linux.cgroupsPath → the container's cgroup directory under the v2 mount.
//   absolute ("/a/b")  → <mount>/a/b: relative to the root of the v2 hierarchy, as the spec says.
//   relative ("a/b")   → <mount>/tsrun/a/b. The spec leaves relative paths to the runtime; runc puts them
//                        under the *caller's* cgroup, which nests containers inside whatever shell or
//                        service started tsrun (and inside each other's cgroups when tsrun runs in a
//                        container). tsrun always anchors them under its own /tsrun subtree instead.
//   absent or ""       → <mount>/tsrun/<container id>.
// "." and ".." components are refused (they could climb out of the hierarchy or alias another container),
// as are systemd's "slice:prefix:name" paths: those are for the systemd driver (--systemd-cgroup,
// systemd/path.ts).
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';

export const TSRUN_SUBTREE = 'tsrun';

export interface ResolvedCgroupPath {
  /** Absolute directory of the container's cgroup. */
  dir: string;
  /** Topmost directory tsrun may remove when empty (see CgroupPlan.ownedRoot). */
  ownedRoot: string;
}

const FIELD = 'linux.cgroupsPath';

export function resolveCgroupPath(mountPoint: string, cgroupsPath: string | undefined, id: string): ResolvedCgroupPath {
  const owned = posix.join(mountPoint, TSRUN_SUBTREE);
  if (cgroupsPath === undefined || cgroupsPath === '') {
    checkComponents('container id', [id]);
    return { dir: posix.join(owned, id), ownedRoot: owned };
  }
  if (/^[^/]*:[^/]*:[^/]*$/.test(cgroupsPath)) {
    throw new ConfigError(FIELD, `"${cgroupsPath}" is a systemd "slice:prefix:name" path: give tsrun --systemd-cgroup to have systemd make the cgroup, or a path like "/mygroup/${id}"`);
  }
  const components = cgroupsPath.split('/').filter((c) => c !== '');
  checkComponents(FIELD, components);
  if (components.length === 0) throw new ConfigError(FIELD, 'must not be the root of the cgroup hierarchy');
  const dir = cgroupsPath.startsWith('/') ? posix.join(mountPoint, ...components) : posix.join(owned, ...components);
  return { dir, ownedRoot: ownedRootOf(mountPoint, dir) };
}

/**
 * The topmost directory tsrun may remove once empty: <mount>/tsrun for anything inside tsrun's own
 * subtree (however the path was spelled), otherwise only the container's directory itself, since the
 * parents of an absolute path elsewhere belong to whoever chose it.
 */
export function ownedRootOf(mountPoint: string, dir: string): string {
  const owned = posix.join(mountPoint, TSRUN_SUBTREE);
  return dir.startsWith(`${owned}/`) ? owned : dir;
}

function checkComponents(field: string, components: string[]): void {
  for (const c of components) {
    if (c === '.' || c === '..') throw new ConfigError(field, `must not contain "${c}" components`);
    if (c.includes('\0') || c.includes('\n')) throw new ConfigError(field, 'must not contain NUL or newline characters');
  }
  if (field !== FIELD && components.some((c) => c === '' || c.includes('/'))) {
    throw new ConfigError(field, 'cannot be used as a cgroup name');
  }
}
