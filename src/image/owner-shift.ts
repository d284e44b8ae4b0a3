// A user's image store with its owners shifted (podman's way): a layer file owned by uid U in the tar
// is owned on disk by the host id that U is inside the user's containers — the same maps `run
// --image` gives them (namespaces/subordinate-ids.ts, rootlessImageMaps): 0 is the user's own id,
// 1…N its first subordinate range. Root inside is the user outside, so most files (root's) need
// nothing; the others are chowned by tsrun-init inside a user namespace with those maps, since a user
// may not chown to its subordinate ids directly. The id arithmetic and the plans are pure (unit-tested);
// shiftOwners runs them.
import type { Plan, Step } from '../abi/steps.js';
import { filePlan } from './file-plan.js';
import { runFilePlan } from './remove-shifted.js';
import type { IdMapping } from '../oci/types.js';
import { hostIdOf } from '../oci/id-map.js';
import type { IdShift } from './store-shift.js';

export { shiftKey, shifts, type IdShift } from './store-shift.js';
export { hostIdOf };

/** One file whose owner inside is not root: what tsrun-init sets it to (ids as seen inside). */
export interface OwnedEntry {
  /** Path in the layer (no leading slash; '' is the layer root). */
  path: string;
  uid: number;
  gid: number;
  /** Mode to set again after the chown (its setuid/setgid bits, which a chown clears), or -1. */
  mode: number;
  /**
   * xattrs a user may set only as root of the user namespace, after the chown (which clears them):
   * security.capability, which the kernel then stores for that namespace (v3 file capabilities).
   * Values base64.
   */
  xattrs?: { name: string; value: string }[];
}

/**
 * How many steps one plan carries (about) at most: tsrun-init refuses plans of more than 100000
 * steps (shim.c, decode_plan); a layer with more files of other owners takes several plans.
 */
export const MAX_CHOWNS_PER_PLAN = 50_000;


/** "0-65535": the ids inside that the maps cover. */
export function insideRanges(maps: IdMapping[]): string {
  const sorted = [...maps].sort((a, b) => a.containerID - b.containerID);
  const parts: [number, number][] = [];
  for (const m of sorted) {
    const last = parts[parts.length - 1];
    if (last && last[1] + 1 === m.containerID) last[1] = m.containerID + m.size - 1;
    else parts.push([m.containerID, m.containerID + m.size - 1]);
  }
  return parts.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ');
}

/**
 * Why an entry's owner cannot be kept under the maps, or undefined. Refused rather than mapped to
 * the overflow id (65534): a file that silently changes owner can change who may read or run it (a
 * key, a setuid program), and the fix — a larger range in /etc/subuid — is the user's to make.
 */
export function ownerProblem(shift: IdShift, uid: number, gid: number): string | undefined {
  for (const [kind, id, maps, file] of [['uid', uid, shift.uid, '/etc/subuid'], ['gid', gid, shift.gid, '/etc/subgid']] as const) {
    if (hostIdOf(maps, id) === undefined) {
      return `its owner ${kind} ${id} is outside the ${kind}s this user's containers have (${insideRanges(maps)}: its own id and its first range in ${file}); grant a larger range as root (usermod ${kind === 'uid' ? '--add-subuids' : '--add-subgids'} …), then import again`;
    }
  }
  return undefined;
}

/** Plans (about MAX_CHOWNS_PER_PLAN steps each) that give a layer's files their shifted owners and capabilities. */
export function ownershipPlans(layerRoot: string, entries: readonly OwnedEntry[], shift: IdShift): Plan[] {
  const plans: Plan[] = [];
  let steps: Step[] = [];
  const flush = (): void => {
    if (steps.length) plans.push(filePlan(layerRoot, steps, shift, 'the layer being unpacked: every chown is resolved beneath it'));
    steps = [];
  };
  for (const e of entries) {
    steps.push({ op: 'chownBeneath', path: e.path, uid: e.uid, gid: e.gid, mode: e.mode, why: 'the owner the layer gives this file, as the container will see it' });
    for (const x of e.xattrs ?? []) steps.push({ op: 'setxattrBeneath', path: e.path, name: x.name, value: x.value, why: 'set after the chown, which clears it' });
    if (steps.length >= MAX_CHOWNS_PER_PLAN) flush();
  }
  flush();
  return plans;
}


/** Gives the files of an unpacked layer (not yet in place) their shifted owners. */
export async function shiftOwners(layerRoot: string, entries: readonly OwnedEntry[], shift: IdShift): Promise<void> {
  for (const plan of ownershipPlans(layerRoot, entries, shift)) {
    await runFilePlan(plan, `giving the layer's files their owners in the user namespace (${layerRoot})`);
  }
}
