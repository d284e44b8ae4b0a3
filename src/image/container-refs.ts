// Which layers containers are using, so `image prune` keeps them after `image rm` of their image.
//
// A container started from an image writes `<store>/containers/<its state dir, encoded>.json`
// (while holding the store lock, together with finding or importing the image), naming its state
// directory and its layers; `delete` removes it. The store cannot list containers itself — each
// `--root` has its own — so the reference points back at the container instead: prune counts it
// while that state directory exists and drops it once the directory is gone (a container removed
// by hand, or the state root on a tmpfs after a reboot). A leftover reference can only keep layers
// longer, never lose one.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export interface ContainerRef {
  /** Absolute state directory of the container (`<root>/<id>`). */
  stateDir: string;
  id: string;
  /** Image id and its layers' diff-ids, bottom first. */
  image: string;
  diffIds: string[];
  created: string;
}

const refsDir = (storeDir: string): string => `${storeDir}/containers`;

/** Where the reference of the container whose state is in `stateDir` lives. */
export function containerRefPath(storeDir: string, stateDir: string): string {
  // The path itself, base64url-encoded: unique and free, where a sha256 would load node:crypto
  // (~1.5 ms, at every `run --image`). Only a path too long for a file name is hashed.
  const name = Buffer.from(stateDir).toString('base64url');
  if (name.length <= 200) return `${refsDir(storeDir)}/${name}.json`;
  const { createHash } = process.getBuiltinModule('node:crypto');
  return `${refsDir(storeDir)}/sha256-${createHash('sha256').update(stateDir).digest('hex')}.json`;
}

/** Records that a container uses layers. The caller holds the store lock. */
export function addContainerRef(storeDir: string, ref: ContainerRef): string {
  mkdirSync(refsDir(storeDir), { recursive: true, mode: 0o700 });
  const path = containerRefPath(storeDir, ref.stateDir);
  writeFileSync(`${path}.${process.pid}.tmp`, JSON.stringify(ref) + '\n');
  renameSync(`${path}.${process.pid}.tmp`, path);
  return path;
}

/** Removes a reference (no lock needed: prune either still sees it, or no longer needs it). */
export function removeContainerRef(path: string): void {
  rmSync(path, { force: true });
}

/** References of containers whose state still exists; stale ones are deleted. The caller holds the store lock. */
export function liveContainerRefs(storeDir: string): ContainerRef[] {
  let names: string[];
  try { names = readdirSync(refsDir(storeDir)); } catch { return []; }
  const live: ContainerRef[] = [];
  for (const n of names) {
    const path = `${refsDir(storeDir)}/${n}`;
    let ref: ContainerRef | undefined;
    try { ref = JSON.parse(readFileSync(path, 'utf8')) as ContainerRef; } catch { /* unreadable: stale */ }
    if (ref && containerRefPath(storeDir, ref.stateDir) === path && existsSync(ref.stateDir)) live.push(ref);
    else rmSync(path, { force: true }); // also temp files of writers that died (writers hold the lock)
  }
  return live;
}
