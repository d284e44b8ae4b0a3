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
