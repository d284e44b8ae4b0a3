// errno numbers to their names (EPERM…), from Node's own table so no list is maintained here.
import { constants } from 'node:os';
import { getSystemErrorMap } from 'node:util';

let names: Map<number, string> | undefined;

export function errnoName(errno: number): string {
  if (!names) {
    names = new Map();
    for (const [name, value] of Object.entries(constants.errno)) if (!names.has(value)) names.set(value, name);
  }
  return names.get(errno) ?? `errno ${errno}`;
}

/** `ENOENT (no such file or directory)`: the name for people who know it, the text for those who
 * don't — and for tools such as podman that match the text to pick an exit code. */
export function errnoText(errno: number): string {
  const message = getSystemErrorMap().get(-errno)?.[1];
  return message ? `${errnoName(errno)} (${message})` : errnoName(errno);
}

/** Conventional wait-status decoding: exit code, or the signal that killed the process. */
export function decodeWaitStatus(status: number): { exitCode?: number; signal?: number } {
  const sig = status & 0x7f;
  if (sig === 0) return { exitCode: (status >> 8) & 0xff };
  return { signal: sig };
}
