// Why a controller tsrun needs is absent from cgroup2. The fix depends on the reason: a controller
// claimed by a v1 hierarchy comes back when v1 goes, one switched off with cgroup_disable= comes back
// when the boot option goes, and one the parent cgroup did not delegate needs its subtree_control.

export type MissingReason = 'held-by-v1' | 'disabled-at-boot' | 'not-in-kernel' | 'not-delegated';

export interface ProcCgroupsEntry {
  /** v1 hierarchy ID the controller is bound to; 0 when it is free (so usable by cgroup2). */
  hierarchy: number;
  enabled: boolean;
}

/** /proc/cgroups: `#subsys_name hierarchy num_cgroups enabled`, one controller a line, in v1 names. */
export function parseProcCgroups(text: string): Map<string, ProcCgroupsEntry> {
  const entries = new Map<string, ProcCgroupsEntry>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const [name, hierarchy, , enabled] = line.trim().split(/\s+/);
    if (name && hierarchy !== undefined && enabled !== undefined) entries.set(name, { hierarchy: Number(hierarchy), enabled: enabled === '1' });
  }
  return entries;
}

/** v2 renamed blkio to io; every other controller tsrun uses kept its name. */
function v1Name(controller: string): string {
  return controller === 'io' ? 'blkio' : controller;
}

/** The kernel option that builds each controller, for the "not in this kernel" fix. */
const KERNEL_OPTION: Record<string, string> = {
  memory: 'CONFIG_MEMCG', cpu: 'CONFIG_CGROUP_SCHED', cpuset: 'CONFIG_CPUSETS',
  pids: 'CONFIG_CGROUP_PIDS', io: 'CONFIG_BLK_CGROUP', hugetlb: 'CONFIG_CGROUP_HUGETLB',
};

/**
 * `heldByV1` comes from the mount table; /proc/cgroups (when readable) also catches a hierarchy
 * mounted in another mount namespace, a controller disabled at boot, and one not built at all.
 */
export function whyMissing(controller: string, heldByV1: string[], procCgroups: Map<string, ProcCgroupsEntry> | undefined): MissingReason {
  const name = v1Name(controller);
  const entry = procCgroups?.get(name);
  if (heldByV1.includes(name) || (entry !== undefined && entry.hierarchy > 0)) return 'held-by-v1';
  if (entry !== undefined && !entry.enabled) return 'disabled-at-boot';
  if (procCgroups !== undefined && entry === undefined) return 'not-in-kernel';
  return 'not-delegated';
}

export const UNIFY_FIX = 'boot with systemd.unified_cgroup_hierarchy=1 (add cgroup_no_v1=all if something else mounts v1), or use `make test-vm`';

function fixFor(reason: MissingReason, controllers: string[]): string {
  const list = controllers.join(', ');
  switch (reason) {
    case 'held-by-v1':
      return `${list} ${controllers.length === 1 ? 'is' : 'are'} held by cgroup v1: ${UNIFY_FIX}`;
    case 'disabled-at-boot':
      return `${list} ${controllers.length === 1 ? 'was' : 'were'} disabled at boot: remove cgroup_disable=${controllers.map(v1Name).join(',')} from the kernel command line`;
    case 'not-in-kernel':
      return `this kernel was built without ${controllers.map((c) => KERNEL_OPTION[c] ?? c).join(', ')}`;
    case 'not-delegated':
      return `${list} ${controllers.length === 1 ? 'is' : 'are'} not enabled for this subtree: add ${controllers.map((c) => `+${c}`).join(' ')} to the parent's cgroup.subtree_control (systemd: Delegate=yes)`;
  }
}

/** One fix sentence per reason, in a stable order. */
export function fixForMissing(missing: string[], heldByV1: string[], procCgroups: Map<string, ProcCgroupsEntry> | undefined): string {
  const byReason = new Map<MissingReason, string[]>();
  for (const c of missing) {
    const reason = whyMissing(c, heldByV1, procCgroups);
    byReason.set(reason, [...(byReason.get(reason) ?? []), c]);
  }
  return [...byReason].map(([reason, controllers]) => fixFor(reason, controllers)).join('; ');
}
