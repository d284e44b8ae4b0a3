// Why `events --stats` has no memory (or pids, io…) figures for a container: a stats file exists only in
// a cgroup whose parent enabled its controller. The controller is either absent from the host's cgroup v2
// hierarchy (a hybrid host, where cgroup v1 holds it; switched off at boot; not built), or present but
// not enabled for this container's cgroup: tsrun enables a controller only for a limit the config sets.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2MountContaining } from '../cgroups/mount.js';
import { parseControllerList } from '../cgroups/host.js';
import { parseProcCgroups, whyMissing } from '../check/cgroup-controllers.js';
import { findCgroupLayout, v1Controllers } from '../check/cgroup-layout.js';
import { parseMountInfo } from '../host/mountinfo.js';

/** The stats of `events --stats` (data.<key>), the controller behind each, and the field that enables it. */
const STAT_CONTROLLERS: [stat: string, controller: string, field: string, what: string][] = [
  ['memory', 'memory', 'linux.resources.memory', 'memory.current, memory.peak, memory.events'],
  ['cpu', 'cpu', 'linux.resources.cpu', 'cpu.stat nr_periods, nr_throttled, throttled_usec (usage_usec is always there)'],
  ['pids', 'pids', 'linux.resources.pids', 'pids.current'],
  ['io', 'io', 'linux.resources.blockIO', 'io.stat'],
  ['hugetlb', 'hugetlb', 'linux.resources.hugepageLimits', 'hugetlb.<size>.current'],
];

export interface StatsSources {
  /** Controllers of the container's cgroup (its cgroup.controllers). */
  cgroupControllers: string[];
  /** Controllers of the hierarchy's root (cgroup.controllers at the cgroup2 mount). */
  hierarchyControllers: string[];
  mountPoint: string;
  /** Controllers bound to cgroup v1 hierarchies (from the mount table). */
  heldByV1: string[];
  /** /proc/cgroups, when readable. */
  procCgroups?: string;
}

/** stat → why it is missing, for every stat whose controller the container's cgroup lacks. */
export function missingStats(src: StatsSources): Record<string, string> {
  const out: Record<string, string> = {};
  const proc = src.procCgroups === undefined ? undefined : parseProcCgroups(src.procCgroups);
  for (const [stat, controller, field, what] of STAT_CONTROLLERS) {
    if (src.cgroupControllers.includes(controller)) continue;
    if (src.hierarchyControllers.includes(controller)) {
      out[stat] = `no ${what}: the ${controller} controller is not enabled for this container's cgroup (tsrun enables it only when the config sets ${field})`;
      continue;
    }
    const because = {
      'held-by-v1': 'cgroup v1 holds it (a hybrid host; tsrun check says more)',
      'disabled-at-boot': `it was disabled at boot (cgroup_disable=${controller === 'io' ? 'blkio' : controller})`,
      'not-in-kernel': 'this kernel was built without it',
      'not-delegated': 'it is not enabled above this cgroup',
    }[whyMissing(controller, src.heldByV1, proc)];
    out[stat] = `no ${what}: the cgroup v2 hierarchy at ${src.mountPoint} has no ${controller} controller: ${because}`;
  }
  return out;
}

const read = (file: string): string | undefined => {
  try { return readFileSync(file, 'utf8'); } catch { return undefined; }
};

/** missingStats for a container's cgroup directory on this host. */
export function missingStatsOf(cgroupDir: string): Record<string, string> {
  const mountInfo = read('/proc/self/mountinfo') ?? '';
  const mountPoint = cgroup2MountContaining(mountInfo, cgroupDir) ?? cgroupDir;
  return missingStats({
    cgroupControllers: parseControllerList(read(join(cgroupDir, 'cgroup.controllers')) ?? ''),
    hierarchyControllers: parseControllerList(read(join(mountPoint, 'cgroup.controllers')) ?? ''),
    mountPoint,
    heldByV1: v1Controllers(findCgroupLayout(parseMountInfo(mountInfo))),
    ...(read('/proc/cgroups') !== undefined ? { procCgroups: read('/proc/cgroups')! } : {}),
  });
}
