// Which maps this process's image store shifts owners with (owner-shift.ts): none for root (it keeps
// the tar's ids), none for a user without subordinate ids (every file is the user's own, so root's
// inside), else the maps of the user's containers (0 its own id, 1… its first subordinate range).
// Small on purpose: `run --image` checks every layer against it from the startup snapshot.
import { rootlessImageMaps } from '../namespaces/subordinate-ids.js';
import type { IdMapping } from '../oci/types.js';

/** The maps of the user's containers, which its store's layers are shifted with. */
export interface IdShift { uid: IdMapping[]; gid: IdMapping[] }

/** True when the maps shift anything: more than the user's own id is mapped. */
export function shifts(shift: IdShift | undefined): shift is IdShift {
  return shift !== undefined && (shift.uid.length > 1 || shift.gid.length > 1 || shift.uid.some((m) => m.size > 1) || shift.gid.some((m) => m.size > 1));
}

/**
 * The maps as recorded with a layer (layer.json `idShift`): a layer unpacked with other maps must not
 * be reused, since its files would have the wrong owners inside.
 */
export function shiftKey(shift: IdShift | undefined): string | undefined {
  if (!shifts(shift)) return undefined;
  const text = (maps: IdMapping[]): string => maps.map((m) => `${m.containerID}:${m.hostID}:${m.size}`).join(',');
  return `uid=${text(shift.uid)};gid=${text(shift.gid)}`;
}

export function storeShift(euid = process.geteuid?.() ?? 0): IdShift | undefined {
  if (euid === 0) return undefined;
  const maps = rootlessImageMaps();
  return shifts(maps) ? maps : undefined;
}
