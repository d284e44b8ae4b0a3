// Waiting for a value in cgroup.events (frozen, populated). The kernel signals changes to that file with
// inotify modify events, so we sleep on fs.watch and re-read when woken; a backstop timer (growing from
// 1 ms to 50 ms) covers missed or coalesced notifications. No busy loop.
import { watch } from 'node:fs';
import { join } from 'node:path';
import { CgroupError } from './errors.js';
import { parseFlatKeyed, readCgroupFile } from './files.js';

export function readEvents(dir: string): Record<string, number> {
  return parseFlatKeyed(readCgroupFile(dir, 'cgroup.events') ?? '');
}

/**
 * True once cgroup.events shows `key value`. A cgroup that no longer exists is empty ("populated 0"
 * holds), but can reach no other state, which is an error rather than a wait until the timeout.
 */
function reached(dir: string, key: string, value: number): boolean {
  const text = readCgroupFile(dir, 'cgroup.events');
  if (text === undefined) {
    if (key === 'populated' && value === 0) return true;
    throw new CgroupError(`cgroup: ${dir} no longer exists (waiting for "${key} ${value}")`, { file: dir });
  }
  return parseFlatKeyed(text)[key] === value;
}

export async function waitForEvent(dir: string, key: string, value: number, timeoutMs = 10_000): Promise<void> {
  if (reached(dir, key, value)) return;
  let wake: (() => void) | undefined;
  const watcher = watch(join(dir, 'cgroup.events'), () => wake?.());
  watcher.on('error', () => wake?.()); // the cgroup vanished; the next read reports it
  const deadline = Date.now() + timeoutMs;
  try {
    for (let backoff = 1; ; backoff = Math.min(backoff * 2, 50)) {
      if (reached(dir, key, value)) return;
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(backoff, left));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    watcher.close();
  }
  throw new CgroupError(`cgroup: ${join(dir, 'cgroup.events')} did not reach "${key} ${value}" within ${timeoutMs} ms`, {
    file: join(dir, 'cgroup.events'),
  });
}
