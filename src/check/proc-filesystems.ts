// /proc/filesystems lists the filesystem types the running kernel can mount right now, one a line,
// `nodev` first when the type needs no block device. A module not yet loaded is not listed.

export function parseFilesystems(text: string): Set<string> {
  const types = new Set<string>();
  for (const line of text.split('\n')) {
    const name = line.trim().split(/\s+/).pop();
    if (name) types.add(name);
  }
  return types;
}
