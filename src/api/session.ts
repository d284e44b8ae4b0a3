// A test process's session: one state root for its containers and a reaper that deletes them when
// the process dies, however it dies.
//
// The reaper is `tsrun-init reap` (native-bindings/init-modes.c), a ~1 MB static C program, not
// Node. Its stdin is one end of a socket pair whose other end only this process holds (libuv makes
// it close-on-exec, so no child of this process, container or CLI, inherits it). When this process
// ends — return, crash, SIGKILL, an OOM kill — the kernel closes that end, the reaper reads EOF and
// execs `tsrun --root ROOT sweep --session ID` (src/api/sweep.ts). close() deletes the containers
// itself and then sends the reaper one byte, on which it exits without sweeping. The reaper runs in
// a session of its own (setsid), so a terminal's ^C to the test's process group does not take it
// along. PR_SET_PDEATHSIG was not used: it fires when the *thread* that forked dies, and Node forks
// from whichever thread, and it would need the reaper to be Node's child for life.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { TsrunError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { defaultInitPath } from './init.js';
import { newSessionId, SESSION_ANNOTATION } from './session-id.js';
import { defaultSessionsDir, markOwnedRoot, sweepSession } from './sweep.js';

export interface SessionOptions {
  /**
   * The state root of the session's containers. Default: a fresh directory of the session's own
   * under `sessionsDir` (default /run/tsrun-sessions/ID), removed with the session. A root given here
   * may be shared: only the containers carrying this session's annotation are the session's.
   */
  root?: string;
  /** Start the reaper (default true). Without it, only close() or a later sweep() cleans up. */
  reaper?: boolean;
  /** Where the session's own root is made when `root` is not given (default: defaultSessionsDir()). */
  sessionsDir?: string;
}

export interface Session {
  readonly id: string;
  readonly root: string;
  /** Put these in a container's config (`annotations`) to make it the session's. */
  readonly annotations: Readonly<Record<string, string>>;
  /** The reaper's pid, while it runs (undefined with reaper: false). */
  readonly reaperPid: number | undefined;
  /** Deletes every container of the session (killing what runs), then the root if it is the session's. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts `tsrun-init reap` for the session; resolves once it runs (or rejects naming what failed). */
function startReaper(id: string, root: string): Promise<ChildProcess> {
  const tsrun = join(packageRoot(), 'bin', 'tsrun');
  const init = defaultInitPath();
  const child = spawn(init, ['reap', tsrun, '--root', root, 'sweep', '--session', id], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new TsrunError(`session: starting the reaper ${init}: ${err.message}`, { file: init, cause: err })));
    child.once('spawn', () => {
      // Neither the reaper nor its socket keeps this process's event loop alive.
      child.unref();
      (child.stdin as Socket | null)?.unref();
      // A reaper killed by someone: close() finds its socket broken (EPIPE), which is not our error.
      child.stdin?.on('error', () => {});
      resolve(child);
    });
  });
}

export async function session(opts: SessionOptions = {}): Promise<Session> {
  const id = newSessionId();
  let root: string;
  if (opts.root !== undefined) {
    root = opts.root;
    mkdirSync(root, { recursive: true, mode: 0o700 });
  } else {
    const parent = opts.sessionsDir ?? defaultSessionsDir();
    root = join(parent, id);
    mkdirSync(parent, { recursive: true, mode: 0o700 });
    mkdirSync(root, { mode: 0o700 });
    markOwnedRoot(root, id);
  }
  let reaper: ChildProcess | undefined;
  try {
    reaper = opts.reaper === false ? undefined : await startReaper(id, root);
  } catch (err) {
    if (opts.root === undefined) await sweepSession(root, id); // the root made above, empty
    throw err;
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await sweepSession(root, id);
      // Disarm the reaper: one byte, then our end closes; it exits without sweeping.
      if (reaper?.stdin && !reaper.stdin.destroyed) reaper.stdin.end('q');
    })();
    return closing;
  };
  return {
    id,
    root,
    annotations: { [SESSION_ANNOTATION]: id },
    get reaperPid() {
      return reaper && reaper.exitCode === null && reaper.signalCode === null ? reaper.pid : undefined;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
