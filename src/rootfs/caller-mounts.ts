// A config without a mount namespace still mounts (proc, /dev, masked paths…): like runc, tsrun
// then mounts into the caller's own mount table, under the rootfs. Unlike runc it leaves nothing
// behind: it records which mounts its plan made (mount ids that appeared under the rootfs between
// clone and the end of set-up) and `delete` removes exactly those, children first. Pure: the mount
// table comes in as parsed /proc/self/mountinfo (src/host/mountinfo.ts).
import type { MountInfoEntry } from '../host/mountinfo.js';
import type { Plan } from '../abi/steps.js';

/** One mount as mountinfo names it. The id tells it apart from a later mount at the same path. */
export interface MountRef {
  id: number;
  path: string;
}

/** Kept in the container's state (state.json) from clone until `delete`. */
export interface CallerMounts {
  /** The rootfs, canonical (as mountinfo spells it): only mounts at or below it are considered. */
  rootfs: string;
  /** Mounts already under the rootfs before clone (e.g. the user's own): never unmounted. */
  before: MountRef[];
  /** The mounts the plan made. Absent while set-up runs (and if tsrun died during it). */
  created?: MountRef[];
}

export function isUnder(path: string, rootfs: string): boolean {
  return path === rootfs || path.startsWith(rootfs.endsWith('/') ? rootfs : `${rootfs}/`);
}

export function mountsUnder(table: readonly MountInfoEntry[], rootfs: string): MountRef[] {
  return table.filter((e) => isUnder(e.mountPoint, rootfs)).map((e) => ({ id: e.mountId, path: e.mountPoint }));
}

const key = (m: MountRef): string => `${m.id} ${m.path}`;

/** Mounts of `after` that `before` does not have (same id and path). */
export function newMounts(before: readonly MountRef[], after: readonly MountRef[]): MountRef[] {
  const old = new Set(before.map(key));
  return after.filter((m) => !old.has(key(m)));
}

/**
 * The recorded mounts still in the table, children before their parents, so every unmount removes
 * a mount nothing of tsrun's sits on (a mount stacked on another at the same path is its child).
 * A mount whose id now names another path is not ours any more and is left out.
 */
export function unmountOrder(recorded: readonly MountRef[], table: readonly MountInfoEntry[]): MountRef[] {
  const byId = new Map(table.map((e) => [e.mountId, e]));
  const depth = (id: number): number => {
    let d = 0;
    for (let e = byId.get(id); e && e.parentId !== e.mountId && d < byId.size; e = byId.get(e.parentId)) d++;
    return d;
  };
  return recorded
    .filter((m) => byId.get(m.id)?.mountPoint === m.path)
    .map((m) => ({ m, d: depth(m.id) }))
    .sort((a, b) => b.d - a.d)
    .map(({ m }) => m);
}

/** What `delete` unmounts: the recorded mounts, or — when set-up never finished — all new ones. */
export function mountsToRemove(t: CallerMounts, table: readonly MountInfoEntry[]): MountRef[] {
  return unmountOrder(t.created ?? newMounts(t.before, mountsUnder(table, t.rootfs)), table);
}

/** The plan mounts something although the container has no mount namespace of its own. */
export function mountsInCallerNamespace(plan: Plan): boolean {
  return !plan.namespaces.some((n) => n.type === 'mount') && plan.steps.some((s) => s.op === 'mount' || s.op === 'mask');
}
