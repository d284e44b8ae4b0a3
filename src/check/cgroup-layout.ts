// Works out the cgroup layout from the mount table. cgroup v1 mounts one hierarchy per controller (or
// group of controllers), and a controller can belong to one hierarchy only; cgroup v2 is a single
// hierarchy whose controllers are whatever v1 has not claimed. "Hybrid" hosts mount both.
import { visibleMounts, type MountInfoEntry } from '../host/mountinfo.js';

export type CgroupLayout = 'v2' | 'v1' | 'hybrid' | 'none';

export interface V1Hierarchy {
  mountPoint: string;
  controllers: string[];
  /** A named hierarchy without controllers (`name=systemd`), used only to group processes. */
  name?: string;
}

export interface CgroupLayoutInfo {
  layout: CgroupLayout;
  v2MountPoint?: string;
  v1Hierarchies: V1Hierarchy[];
}

/** Every controller a v1 hierarchy can carry; the other super options (`rw`, `noprefix` …) are flags. */
const V1_CONTROLLERS = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio',
  'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
]);

function toV1Hierarchy(m: MountInfoEntry): V1Hierarchy {
  const controllers = m.superOptions.filter((o) => V1_CONTROLLERS.has(o));
  const name = m.superOptions.find((o) => o.startsWith('name='))?.slice('name='.length);
  return name === undefined ? { mountPoint: m.mountPoint, controllers } : { mountPoint: m.mountPoint, controllers, name };
}

/** The cgroup2 mount to use: one showing the hierarchy's root, else the first one found. */
export function findCgroup2Mount(mounts: MountInfoEntry[]): MountInfoEntry | undefined {
  const all = mounts.filter((m) => m.fsType === 'cgroup2');
  return all.find((m) => m.root === '/') ?? all[0];
}

/** The layout a path lookup sees: mounts hidden under others are left out, as the planner does. */
export function findCgroupLayout(allMounts: MountInfoEntry[]): CgroupLayoutInfo {
  const mounts = visibleMounts(allMounts);
  const v2 = findCgroup2Mount(mounts);
  // The same hierarchy can be mounted twice (bind mounts); list each mount point once.
  const seen = new Set<string>();
  const v1Hierarchies = mounts
    .filter((m) => m.fsType === 'cgroup' && !seen.has(m.mountPoint) && seen.add(m.mountPoint))
    .map(toV1Hierarchy);
  const layout: CgroupLayout = v2 ? (v1Hierarchies.length > 0 ? 'hybrid' : 'v2') : v1Hierarchies.length > 0 ? 'v1' : 'none';
  return v2 ? { layout, v2MountPoint: v2.mountPoint, v1Hierarchies } : { layout, v1Hierarchies };
}

export { parseControllerList } from '../cgroups/host.js';

/** Controllers claimed by v1 hierarchies, in mount order, without duplicates. */
export function v1Controllers(info: CgroupLayoutInfo): string[] {
  return [...new Set(info.v1Hierarchies.flatMap((h) => h.controllers))];
}
