// Whether this process runs in the host's user namespace: its uid_map maps every id to itself.
// Uid 0 elsewhere (a container, podman's rootless runtime) holds no privilege over the host.
import { readFileSync } from 'node:fs';

let uidMap: { pid: number; text: string | undefined } | undefined;

/**
 * This process's /proc/self/uid_map (undefined without /proc), read once per process: Node always
 * runs threads, and the kernel refuses setns(2) into a user namespace to a threaded process, so it
 * cannot change. Keyed by pid, so a map the startup snapshot's build read is never reused by the
 * process that loads the snapshot.
 */
export function ownUidMap(): string | undefined {
  if (uidMap?.pid !== process.pid) {
    let text: string | undefined;
    try {
      text = readFileSync('/proc/self/uid_map', 'utf8');
    } catch {
      text = undefined;
    }
    uidMap = { pid: process.pid, text };
  }
  return uidMap.text;
}

export function isInitialUserNamespace(): boolean {
  const map = ownUidMap();
  // No /proc: treated as the host's, as before.
  return map === undefined || map.trim().split(/\s+/).join(' ') === '0 0 4294967295';
}
