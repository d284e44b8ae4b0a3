// errno numbers to their names (EPERM…), from Node's own table so no list is maintained here.
import { constants } from 'node:os';

let names: Map<number, string> | undefined;

export function errnoName(errno: number): string {
  if (!names) {
    names = new Map();
    for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);
  }
  return names.get(errno) ?? `errno ${errno}`;
}

/** Conventional wait-status decoding: exit code, or the signal that killed the process. */
export function decodeWaitStatus(status: number): { exitCode?: number; signal?: number } {
  const sig = status & 0x7f;
  if (sig === 0) return { exitCode: (status >> 8) & 0xff };
  return { signal: sig };
}
