// An id map as the kernel applies it: an id inside a user namespace is the host id at the same offset
// in the mapping that covers it. Pure.
import type { IdMapping } from './types.js';

/** The host id that `id` (inside) is under the maps, or undefined when no mapping covers it. */
export function hostIdOf(maps: readonly IdMapping[], id: number): number | undefined {
  const m = maps.find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m === undefined ? undefined : m.hostID + (id - m.containerID);
}

/** The mappings of a /proc/PID/uid_map (or gid_map) text: "inside outside count" lines. */
export function parseIdMap(text: string): IdMapping[] {
  const out: IdMapping[] = [];
  for (const line of text.split('\n')) {
    const [containerID, hostID, size] = line.trim().split(/\s+/).map(Number);
    if (Number.isInteger(containerID) && Number.isInteger(hostID) && Number.isInteger(size)) out.push({ containerID: containerID!, hostID: hostID!, size: size! });
  }
  return out;
}
