// Whether this process runs in the host's user namespace: its uid_map maps every id to itself.
// Uid 0 elsewhere (a container, podman's rootless runtime) holds no privilege over the host.
import { readFileSync } from 'node:fs';

let known: { pid: number; initial: boolean } | undefined;

/**
 * Read once per process: Node always runs threads, and the kernel refuses setns(2) into a user
 * namespace to a threaded process, so the answer cannot change. Keyed by pid, so an answer the
 * startup snapshot's build worked out is never reused by the process that loads the snapshot.
 */
export function isInitialUserNamespace(): boolean {
  if (known?.pid === process.pid) return known.initial;
  let initial = true;
  try {
    initial = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295';
  } catch {
    // No /proc: treated as the host's, as before.
  }
  known = { pid: process.pid, initial };
  return initial;
}
