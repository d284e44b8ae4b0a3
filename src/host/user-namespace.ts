// Whether this process runs in the host's user namespace: its uid_map maps every id to itself.
// Uid 0 elsewhere (a container, podman's rootless runtime) holds no privilege over the host.
import { readFileSync } from 'node:fs';

export function isInitialUserNamespace(): boolean {
  try {
    return readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295';
  } catch {
    return true;
  }
}
