// Reads the facts the planner needs from this machine: where cgroup2 is mounted, which controllers its
// root offers, and whether v1 hierarchies hold the rest (a hybrid host).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupError } from './errors.js';
import { findCgroupMounts } from './mount.js';
import type { CgroupHost } from './types.js';

/** Splits a cgroup.controllers / cgroup.subtree_control line into names. */
export function parseControllerList(text: string): string[] {
  return text.split(/\s+/).filter((c) => c !== '');
}

/** The controllers the cgroup at `dir` offers (its cgroup.controllers); none when it cannot be read. */
export function controllersOf(dir: string): string[] {
  try { return parseControllerList(readFileSync(join(dir, 'cgroup.controllers'), 'utf8')); } catch { return []; }
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
    hugepageSizes: hugepageSizes(),
  };
}

/** `hugepages-2048kB` → `2MB`: the names hugetlb gives its files (mm/hugetlb_cgroup.c, mem_fmt). */
export function hugetlbSizeName(dirName: string): string | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(dirName);
  if (!m) return undefined;
  const kb = Number(m[1]);
  if (kb >= 1024 * 1024) return `${kb / (1024 * 1024)}GB`;
  if (kb >= 1024) return `${kb / 1024}MB`;
  return `${kb}KB`;
}

let sizesKnown: { pid: number; sizes: string[] | undefined } | undefined;

/**
 * The sizes in /sys/kernel/mm/hugepages; undefined when it cannot be read (then nothing is checked).
 * Fixed at boot by the kernel and its command line: read once per process (keyed by pid, so never
 * taken from the startup snapshot's build).
 */
function hugepageSizes(): string[] | undefined {
  if (sizesKnown?.pid !== process.pid) sizesKnown = { pid: process.pid, sizes: readHugepageSizes() };
  return sizesKnown.sizes ? [...sizesKnown.sizes] : undefined;
}

function readHugepageSizes(): string[] | undefined {
  try {
    return readdirSync('/sys/kernel/mm/hugepages').map(hugetlbSizeName).filter((s): s is string => s !== undefined);
  } catch {
    return undefined;
  }
}
