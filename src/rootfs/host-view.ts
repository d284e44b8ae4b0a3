// The planner's window on the host (bind-mount sources, the cgroup2 mount point), kept behind
// small functions so unit tests plan without touching the disk.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { unescapeMountPath } from '../host/mountinfo.js';
import { findCgroupMounts } from '../cgroups/mount.js';
import type { HostView } from './plan.js';

export const realHost: HostView = {
  kind(path) {
    try {
      return statSync(path).isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  },
  mountOf(path) {
    let real: string;
    try {
      real = realpathSync(path);
      return mountHolding(readFileSync('/proc/self/mountinfo', 'utf8'), real);
    } catch {
      return undefined;
    }
  },
};

/** The last-mounted of the longest mount points at or above `path`, and whether it is shared. */
export function mountHolding(mountinfo: string, path: string): { mountPoint: string; shared: boolean } | undefined {
  let best: { mountPoint: string; shared: boolean } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0) continue;
    const mountPoint = unescapeMountPath(fields[4]!);
    const above = mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
    if (!above || (best && mountPoint.length < best.mountPoint.length)) continue;
    best = { mountPoint, shared: fields.slice(6, dash).some((f) => f.startsWith('shared:')) };
  }
  return best;
}

/** Where the host mounts the cgroup v2 hierarchy (never assumed to be /sys/fs/cgroup). */
export function hostCgroup2Mount(): string | undefined {
  return findCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).v2;
}
