// The container's network namespace, bind-mounted on a file of its state directory for as long as
// the container exists (as `ip netns add` and podman do). CNI's DEL needs the namespace: the bridge
// plugin finds the NAT rules it must remove from the addresses of the container's interface, and
// with the namespace gone (the init died, or tsrun was killed) it would leave them. The pin keeps
// the namespace until `delete`, whatever happened to the process.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { TsrunError } from '../errors.js';
import { parseMountInfo } from '../host/mountinfo.js';
import { umountMount } from '../native/shim.js';

const run = promisify(execFile);

/** The mount id of the mount at `path`, if something is mounted exactly there. */
export function mountIdAt(path: string): number | undefined {
  let text = '';
  try { text = readFileSync('/proc/self/mountinfo', 'utf8'); } catch { return undefined; }
  return parseMountInfo(text).filter((m) => m.mountPoint === path).at(-1)?.mountId;
}

/** Bind-mounts /proc/PID/ns/net on `path` (a new empty file). */
export async function pinNetns(pid: number, path: string): Promise<void> {
  writeFileSync(path, '', { flag: 'wx', mode: 0o600 });
  try {
    // mount(8) rather than a mount(2) of Node's own: one short process, and an error message of its own.
    await run('mount', ['--bind', `/proc/${pid}/ns/net`, path]);
  } catch (err) {
    rmSync(path, { force: true });
    const e = err as { stderr?: string; message: string };
    throw new TsrunError(`pinning the network namespace of ${pid} on ${path}: ${(e.stderr || e.message).trim()}`, { file: path });
  }
}

/** Unmounts (every stacked mount of) the pin and removes its file; nothing there is fine. */
export function unpinNetns(path: string): void {
  for (let id = mountIdAt(path), n = 0; id !== undefined && n < 16; id = mountIdAt(path), n++) {
    if (umountMount(path, id) !== 'unmounted') break;
  }
  rmSync(path, { force: true });
}
