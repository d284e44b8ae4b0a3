// Creating and removing the directories of a cgroup path, and enabling controllers along it.
import { mkdirSync, rmdirSync } from 'node:fs';
import { posix } from 'node:path';
import { CgroupError, cgroupFsError, errnoOf } from './errors.js';
import { readCgroupFile, writeCgroupFile } from './files.js';
import { parseControllerList } from './host.js';

/** The directories from just below the mount point down to dir, outermost first. */
export function pathChain(mountPoint: string, dir: string): string[] {
  const rel = posix.relative(mountPoint, dir);
  if (rel === '' || rel.startsWith('..') || posix.isAbsolute(rel)) {
    throw new CgroupError(`cgroup: ${dir} is not below the cgroup v2 mount ${mountPoint}`, { file: dir });
  }
  const parts = rel.split('/');
  return parts.map((_, i) => posix.join(mountPoint, ...parts.slice(0, i + 1)));
}

/**
 * mkdir -p, returning the directories this call created (outermost first) so a failure or destroy can
 * remove exactly those. ENOENT is retried: another container's destroy may remove a shared empty
 * parent (/tsrun) between our mkdirs.
 */
export function makeChain(chain: string[]): string[] {
  const created: string[] = [];
  for (let attempt = 0; ; attempt++) {
    try {
      for (const d of chain) {
        try {
          mkdirSync(d);
          if (!created.includes(d)) created.push(d);
        } catch (err) {
          if (errnoOf(err) !== 'EEXIST') throw err;
        }
      }
      return created;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' && attempt < 5) continue;
      removeDirs(created);
      throw cgroupFsError('creating', chain[chain.length - 1] ?? '', 'mkdir', err);
    }
  }
}

/** rmdir innermost first; a directory still in use (EBUSY) or already gone is left alone. */
export function removeDirs(dirs: string[]): void {
  for (const d of [...dirs].reverse()) {
    try {
      rmdirSync(d);
    } catch {
      // Busy (another container under it, or processes) or gone: either way not ours to force.
    }
  }
}

function hasOwnProcesses(dir: string): boolean {
  return (readCgroupFile(dir, 'cgroup.procs') ?? '').trim() !== '';
}

/**
 * Enables the controllers in cgroup.subtree_control of the mount root and of every directory above the
 * leaf, so the leaf gets their files. v2's no-internal-processes rule forbids enabling controllers for
 * the children of a cgroup that has processes of its own (except the root), so such a parent is refused
 * with a message rather than a bare EBUSY from the kernel.
 */
export function enableControllers(mountPoint: string, chain: string[], controllers: string[], delegationRoot?: string): void {
  if (controllers.length === 0) return;
  const below = (p: string): boolean => delegationRoot === undefined || p === delegationRoot || p.startsWith(`${delegationRoot}/`);
  const parents = [mountPoint, ...chain.slice(0, -1)].filter(below);
  for (const parent of parents) {
    const available = parseControllerList(readCgroupFile(parent, 'cgroup.controllers') ?? '');
    const enabled = parseControllerList(readCgroupFile(parent, 'cgroup.subtree_control') ?? '');
    const unavailable = controllers.filter((c) => !available.includes(c));
    if (unavailable.length > 0) {
      throw new CgroupError(`cgroup: controller(s) ${unavailable.join(', ')} not available in ${parent} (it has: ${available.join(' ') || 'none'})`, {
        file: posix.join(parent, 'cgroup.controllers'),
      });
    }
    const missing = controllers.filter((c) => !enabled.includes(c));
    if (missing.length === 0) continue;
    if (parent !== mountPoint && hasOwnProcesses(parent)) {
      throw new CgroupError(
        `cgroup: cannot enable ${missing.join(', ')} below ${parent}: it has processes of its own, and cgroup v2 allows controllers only for the children of cgroups without processes (choose a linux.cgroupsPath elsewhere)`,
        { file: posix.join(parent, 'cgroup.subtree_control') },
      );
    }
    writeCgroupFile(parent, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
  }
}
