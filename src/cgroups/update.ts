// `tsrun update`: the new linux.resources of a live container, as runc's update merges them. Pure: the
// merged resources are then planned exactly as at create (planCgroup), so an update is refused where a
// create with the same limits would be.
import type { HugepageLimit, Resources } from '../oci/types.js';

/** Where merging a change departs from taking it as it is, for the caller to log. */
export interface MergedResources {
  resources: Resources;
  notes: string[];
}

/** Copies the fields of `change` that are given (not undefined) over `current`. */
function over<T extends object>(current: T | undefined, change: Partial<T> | undefined, unchanged: (key: keyof T, value: unknown) => boolean = () => false): T | undefined {
  if (change === undefined) return current;
  const out: Record<string, unknown> = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(change)) {
    if (value !== undefined && !unchanged(key as keyof T, value)) out[key] = value;
  }
  return out as T;
}

/**
 * The container's resources with `change` applied. As runc's update: a field left out keeps its value;
 * for the limits whose zero means "no limit set" in a config (memory limit, reservation and swap, cpu
 * shares, pids limit, blkio weight) and for empty cpuset lists, 0 / "" also means "unchanged" (clients
 * send whole structures with zeros: containerd's Update, docker's); memory limit -1 without a swap
 * value makes the swap unlimited too (runc's cgroup v1 compatibility). Device rules are not changed
 * (runc's update skips them too); hugepage limits are replaced per page size and `unified` per key.
 */
export function mergeResources(current: Resources, change: Resources): MergedResources {
  const notes: string[] = [];
  const zeroKeeps = (key: PropertyKey, value: unknown): boolean => value === 0 && ['limit', 'reservation', 'swap', 'shares', 'weight'].includes(String(key));
  const memoryChange = change.memory?.limit === -1 && change.memory.swap === undefined ? { ...change.memory, swap: -1 } : change.memory;
  const merged: Resources = { ...current };
  const set = <K extends keyof Resources>(key: K, value: Resources[K] | undefined): void => {
    if (value !== undefined) merged[key] = value;
  };
  set('memory', over(current.memory, memoryChange, zeroKeeps));
  set('cpu', over(current.cpu, change.cpu, (key, value) => zeroKeeps(key, value) || (value === '' && (key === 'cpus' || key === 'mems'))));
  set('pids', change.pids && change.pids.limit !== 0 ? { limit: change.pids.limit } : current.pids);
  set('blockIO', over(current.blockIO, change.blockIO, zeroKeeps));
  set('hugepageLimits', change.hugepageLimits ? byPageSize(current.hugepageLimits ?? [], change.hugepageLimits) : current.hugepageLimits);
  set('unified', change.unified ? { ...(current.unified ?? {}), ...change.unified } : current.unified);
  if (change.devices !== undefined && change.devices.length > 0) notes.push('linux.resources.devices: device rules are not changed by update (as runc\'s); they stay as created');
  for (const key of ['network', 'rdma'] as const) {
    if (change[key] !== undefined) notes.push(`linux.resources.${key}: not changed by update`);
  }
  return { resources: merged, notes };
}

function byPageSize(current: HugepageLimit[], change: HugepageLimit[]): HugepageLimit[] {
  const out = new Map(current.map((l) => [l.pageSize, l]));
  for (const l of change) out.set(l.pageSize, l);
  return [...out.values()];
}
