// `tsrun update ID`: new resource limits for a created, running or paused container (runc's update;
// podman update, docker update and containerd's Update call it). The change is merged into the
// container's linux.resources as runc merges it, the result planned as create plans it (so whatever
// create refuses, such as a limit whose controller this host's v2 hierarchy lacks, is refused here
// with the same message), written to the live cgroup, and kept in the container's record so that the
// next update merges with it. A container in a systemd scope (--systemd-cgroup) also gets them as
// the scope's unit properties.
import { TsrunError } from '../errors.js';
import { detectCgroupHost, isHostRoot, planCgroup, thisCaller, type CgroupHost } from '../cgroups/index.js';
import { updateLimits } from '../cgroups/manager.js';
import { readCgroupFile } from '../cgroups/files.js';
import { mergeResources } from '../cgroups/update.js';
import type { Resources, Spec } from '../oci/types.js';
import { withContainer } from '../state/with-container.js';

export interface UpdateOptions {
  warn?: (message: string) => void;
  /** The host's cgroup facts (tests plan against a made-up host). */
  cgroupHost?: CgroupHost;
}

export async function updateContainer(root: string, id: string, change: Resources, opts: UpdateOptions = {}): Promise<Resources> {
  const warn = opts.warn ?? (() => {});
  // Under the container's lock; a stopped or creating container is refused by the lifecycle table.
  return withContainer(root, id, 'update', async ({ store, record }) => {
    if (!record.cgroupDir) throw new TsrunError(`cannot update container ${id}: it has no cgroup (no cgroup v2 hierarchy was mounted when it was created)`);
    const { resources, notes } = mergeResources(record.config.linux?.resources ?? {}, change);
    const spec: Spec = { ...record.config, linux: { ...record.config.linux, resources } };
    const host = opts.cgroupHost ?? detectCgroupHost();
    // A systemd scope's limits are its unit's properties too (runc's update sets both); the systemd
    // driver (a D-Bus client the startup snapshot leaves out) is loaded only then. A user's scope
    // takes only the limits of the controllers delegated to the user's manager.
    const systemd = record.cgroupSystemdUnit ? await import('../cgroups/systemd/index.js') : undefined;
    const userScope = systemd && !isHostRoot(thisCaller()) ? systemd.planUserScopeUpdate(spec, id, host, record.cgroupDir) : undefined;
    const plan = userScope ?? planCgroup(spec, id, host, { dir: record.cgroupDir, ownedRoot: record.cgroupOwnedRoot ?? record.cgroupDir });
    checkBeforeUpdate(resources, change, record.cgroupDir);
    for (const note of [...notes, ...plan.warnings]) warn(note);
    const writes = systemd && record.cgroupSystemdUnit ? await systemd.updateScope(record.cgroupSystemdUnit, id, plan.writes) : plan.writes;
    updateLimits({ ...plan, writes });
    store.write({ ...record, config: spec });
    return resources;
  });
}

/**
 * memory.checkBeforeUpdate (runtime-spec): a new memory limit below what the container uses now is
 * refused instead of making the kernel reclaim or OOM-kill to get there.
 */
function checkBeforeUpdate(resources: Resources, change: Resources, dir: string): void {
  const limit = change.memory?.limit;
  if (!resources.memory?.checkBeforeUpdate || limit === undefined || limit <= 0) return;
  const usage = Number((readCgroupFile(dir, 'memory.current') ?? '0').trim());
  if (limit < usage) {
    throw new TsrunError(`linux.resources.memory.limit: ${limit} is below the container's memory usage now (${usage} bytes in ${dir}/memory.current), and memory.checkBeforeUpdate is set`, { field: 'linux.resources.memory.limit' });
  }
}
