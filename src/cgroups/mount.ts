// Finds the cgroup v2 hierarchy in /proc/self/mountinfo. On pure-v2 hosts it is /sys/fs/cgroup; on hybrid
// hosts (v1 controllers mounted alongside) systemd puts it at /sys/fs/cgroup/unified; inside containers it
// can be anywhere. So it is never hard-coded.
import { mountVisibility, parseMountInfo } from '../host/mountinfo.js';

export interface CgroupMounts {
  /** The cgroup2 mount point, or undefined when the v2 hierarchy is not mounted (visibly) at all. */
  v2: string | undefined;
  /** True when any cgroup v1 hierarchy is mounted where it can be reached (a hybrid or legacy host). */
  hasV1: boolean;
}

/**
 * Picks the cgroup2 mount among the mounts a path lookup reaches: one hidden under another mount
 * (cgroup2 bound over /sys/fs/cgroup hides /sys/fs/cgroup/unified) would name a directory that is
 * not that hierarchy any more. When it is mounted more than once, a mount of the whole hierarchy
 * (root "/") wins over a bind mount of a subtree, and among those the first one (mounted earliest,
 * usually the system's own) wins, so a container's bind mount of the tree cannot redirect us.
 */
export function findCgroupMounts(mountInfo: string): CgroupMounts {
  // A pure function of the text, asked once or twice per container with the same text: the last
  // answer is kept (the library creates containers back to back from one process).
  if (lastFound?.mountInfo === mountInfo) return { ...lastFound.mounts };
  const mounts = parseCgroupMounts(mountInfo);
  lastFound = { mountInfo, mounts };
  return { ...mounts };
}

let lastFound: { mountInfo: string; mounts: CgroupMounts } | undefined;

function parseCgroupMounts(mountInfo: string): CgroupMounts {
  const entries = parseMountInfo(mountInfo);
  const visible = mountVisibility(entries);
  const v2 = entries.filter((e) => e.fsType === 'cgroup2' && visible(e));
  const chosen = v2.find((e) => e.root === '/') ?? v2[0];
  return { v2: chosen?.mountPoint, hasV1: entries.some((e) => e.fsType === 'cgroup' && visible(e)) };
}

/**
 * The cgroup2 mount point that holds dir: among the mounts a path lookup reaches, the longest mount
 * point that is a prefix of dir. A hidden mount's mount point names another filesystem now, so it is
 * never the answer even when it is the longer prefix.
 */
export function cgroup2MountContaining(mountInfo: string, dir: string): string | undefined {
  const entries = parseMountInfo(mountInfo);
  const visible = mountVisibility(entries);
  const holds = (p: string): boolean => dir === p || dir.startsWith(p.endsWith('/') ? p : `${p}/`);
  const points = entries.filter((e) => e.fsType === 'cgroup2' && visible(e) && holds(e.mountPoint)).map((e) => e.mountPoint);
  return points.sort((a, b) => b.length - a.length)[0];
}
