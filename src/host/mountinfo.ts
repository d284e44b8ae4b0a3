// Parser for /proc/self/mountinfo (proc(5)). Mount points are read from here rather than assumed:
// cgroup2 lives at /sys/fs/cgroup on a pure-v2 host but at /sys/fs/cgroup/unified on a hybrid one,
// and inside a container it can be anywhere.

export interface MountInfoEntry {
  mountId: number;
  parentId: number;
  /** The directory of the filesystem that is mounted here (for a bind mount, not `/`). */
  root: string;
  mountPoint: string;
  /** Per-mount options (field 6): `rw`, `nosuid`, `relatime` … */
  mountOptions: string[];
  fsType: string;
  source: string;
  /** Per-superblock options (after ` - `): for a v1 cgroup mount these name its controllers. */
  superOptions: string[];
}

/** Paths in mountinfo escape space, tab, newline and backslash as three octal digits (`\040`). */
export function unescapeMountPath(path: string): string {
  if (!path.includes('\\')) return path; // nearly every path: no regex run per field
  return path.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses one line; returns undefined for a line that does not have the documented shape. */
export function parseMountInfoLine(line: string): MountInfoEntry | undefined {
  const fields = line.trim().split(' ');
  // A variable number of optional fields (shared:N, master:N …) ends with a lone `-`.
  const dash = fields.indexOf('-', 6);
  if (dash < 0 || fields.length < dash + 3) return undefined;
  const [id, parent, , root, mountPoint, options] = fields;
  if (id === undefined || parent === undefined || root === undefined || mountPoint === undefined || options === undefined) return undefined;
  return {
    mountId: Number(id),
    parentId: Number(parent),
    root: unescapeMountPath(root),
    mountPoint: unescapeMountPath(mountPoint),
    mountOptions: options.split(','),
    fsType: fields[dash + 1]!,
    source: unescapeMountPath(fields[dash + 2]!),
    superOptions: (fields[dash + 3] ?? '').split(',').filter((o) => o !== ''),
  };
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const entry = parseMountInfoLine(line);
    if (entry) entries.push(entry);
  }
  return entries;
}

/** The directories strictly between `outer` and `inner` (`/a`, `/a/b/c` → `/a/b`), innermost first. */
function* dirsBetween(inner: string, outer: string): Generator<string> {
  for (let d = inner.slice(0, inner.lastIndexOf('/')); d.length > outer.length && d.startsWith(outer); d = d.slice(0, d.lastIndexOf('/'))) yield d;
}

/**
 * Which mounts a path lookup can reach. A mount is hidden when another is stacked on its mount point
 * (the kernel makes the newer one its child, at the same mount point), when the mount it sits on is
 * hidden, or when a mount was made later at a directory between it and the mount it sits on (that
 * one then has a child whose mount point is above it). For mounts made one after another this is
 * "the last one in mountinfo order for a mount point, and nothing under a later mount"; parent links
 * also get right a mount tucked beneath another (propagation, MOVE_MOUNT_BENEATH), which is listed
 * after the one on top of it. A mount whose parent is not in the table (the root of a chroot or of a
 * container's view; hand-made tables) is taken as reachable. Linear to build, and each question
 * costs the depth of the mount's path, so the hot path can ask it about a few entries of a big table.
 */
export function mountVisibility(entries: readonly MountInfoEntry[]): (m: MountInfoEntry) => boolean {
  const byId = new Map(entries.map((e) => [e.mountId, e]));
  /** Mount points of each mount's children, by the parent's id. */
  const childPoints = new Map<number, Set<string>>();
  for (const e of entries) {
    if (e.parentId === e.mountId) continue;
    const points = childPoints.get(e.parentId);
    if (points) points.add(e.mountPoint);
    else childPoints.set(e.parentId, new Set([e.mountPoint]));
  }
  const memo = new Map<number, boolean>();
  const visible = (m: MountInfoEntry, seen: Set<number>): boolean => {
    const known = memo.get(m.mountId);
    if (known !== undefined) return known;
    if (seen.has(m.mountId)) return false; // a cycle of parent links: no real table has one
    seen.add(m.mountId);
    let result = !childPoints.get(m.mountId)?.has(m.mountPoint);
    if (result) {
      // Down m's stack (the mounts on its mount point) to the mount the stack sits on.
      let bottom = m;
      for (let p = byId.get(m.parentId); p && p.mountPoint === m.mountPoint && !seen.has(p.mountId); p = byId.get(p.parentId)) {
        seen.add(p.mountId);
        bottom = p;
      }
      const under = bottom.parentId === bottom.mountId ? undefined : byId.get(bottom.parentId);
      if (under) {
        const points = childPoints.get(under.mountId)!;
        result = visible(under, seen) && ![...dirsBetween(m.mountPoint, under.mountPoint)].some((d) => points.has(d));
      }
    }
    memo.set(m.mountId, result);
    return result;
  };
  return (m) => visible(m, new Set());
}

/** The mounts a path lookup can reach (see mountVisibility), in table order. */
export function visibleMounts(entries: readonly MountInfoEntry[]): MountInfoEntry[] {
  return entries.filter(mountVisibility(entries));
}
