// Reads the facts the planner needs from this machine: where cgroup2 is mounted, which controllers its
// root offers, and whether v1 hierarchies hold the rest (a hybrid host).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupError } from './errors.js';
import { findCgroupMounts } from './mount.js';
import type { CgroupHost } from './types.js';

/** Splits a cgroup.controllers / cgroup.subtree_control line into names. */
export function parseControllerList(text: string): string[] {
  return text.split(/\s+/).filter((c) => c !== '');
}

export function detectCgroupHost(mountInfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupHost {
  const mounts = findCgroupMounts(mountInfo);
  if (mounts.v2 === undefined) {
    throw new CgroupError(
      'cgroup: no cgroup v2 hierarchy is mounted (no "cgroup2" entry in /proc/self/mountinfo); tsrun needs cgroup v2, e.g. mount -t cgroup2 none /sys/fs/cgroup',
      { file: '/proc/self/mountinfo' },
    );
  }
  const controllersFile = join(mounts.v2, 'cgroup.controllers');
  return {
    mountPoint: mounts.v2,
    controllers: parseControllerList(readFileSync(controllersFile, 'utf8')),
    hybrid: mounts.hasV1,
  };
}
