// The planner's window on the host (bind-mount sources, the cgroup2 mount point), kept behind
// small functions so unit tests plan without touching the disk.
import { readFileSync, statSync } from 'node:fs';
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
};

/** Where the host mounts the cgroup v2 hierarchy (never assumed to be /sys/fs/cgroup). */
export function hostCgroup2Mount(): string | undefined {
  return findCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8')).v2;
}
