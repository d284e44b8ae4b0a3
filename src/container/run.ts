// `tsrun run` = create + start + wait + delete, with the same code as the separate commands. In the
// foreground tsrun is the container init's parent: it relays the pty and signals, waits with
// waitpid, and removes the container (cgroup, state) when it exits. With `detach` it returns after
// start, like runc's `run -d`.
import { basename, resolve } from 'node:path';
import { forwardSignals } from '../process/signals.js';
import { waitForeground } from '../process/foreground.js';
import type { TraceSink } from '../process/trace.js';
import type { CgroupHost } from '../cgroups/index.js';
import { MAX_ID_LENGTH } from '../state/ids.js';
import { createContainer } from './create.js';
import { removeContainer } from './delete.js';
import { startCreated } from './start.js';
import type { ImageRunOptions } from './image-bundle.js';
import type { Spec } from '../oci/types.js';
import { quietWarn } from './diagnostics.js';
import type { NetworkRequest } from '../network/phase.js';
import { defaultStateRoot } from '../state/user-dirs.js';
import { randomHex } from '../host/random.js';

export interface RunOptions {
  /** Bundle directory, or `image` (run an image without making a bundle first). */
  bundle?: string;
  image?: ImageRunOptions;
  id?: string;
  /** State root (`--root`), default defaultStateRoot(): /run/tsrun as root. */
  root?: string;
  detach?: boolean;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** fds 3..3+N-1 of tsrun's caller go to the container (--preserve-fds). */
  preserveFds?: number;
  /** A foreground run leaves the stopped container for `delete` instead of removing it (runc's --keep). */
  keep?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  trace?: TraceSink;
  /** Warnings for the user (not errors). */
  warn?: (message: string) => void;
  /** Notices for the user: where an upper layer was kept (--keep-upper). Default: warn. */
  note?: (message: string) => void;
  /** Where the cgroup v2 hierarchy is and what it offers; default: this machine's. */
  cgroupHost?: () => CgroupHost;
  /** --network / -p. */
  network?: NetworkRequest;
  /** runc's --systemd-cgroup: systemd makes the cgroup, a transient scope. */
  systemdCgroup?: boolean;
  /** A pure change of the loaded config (--init). */
  adjustSpec?: (spec: Spec) => Spec;
}

export interface RunResult {
  id: string;
  /** The container's exit code, or 128+N when it was killed by signal N (shell convention). */
  exitCode: number;
  signal?: string;
  /** The OOM killer killed a process of the container (from memory.events). */
  oomKilled?: boolean;
}

/** A unique id for `tsrun run <bundle>` without one: the bundle's name plus a random suffix. */
export function generatedId(bundleOrImage: string): string {
  // Cut so that the id, with its 9-character suffix, stays within the longest id tsrun accepts.
  const base = basename(resolve(bundleOrImage.replace(/:[^/:]*$/, ''))).replace(/[^A-Za-z0-9_.+-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, MAX_ID_LENGTH - 9) || 'tsrun';
  return `${base}-${randomHex(4)}`;
}

export async function runContainer(opts: RunOptions): Promise<RunResult> {
  const id = opts.id ?? generatedId(opts.image?.ref ?? opts.bundle ?? '.');
  // A closed stderr (EPIPE) must not keep the end of the run from removing the container.
  const warn = quietWarn(opts.warn);
  const note = opts.note ? quietWarn(opts.note) : warn;
  const signals = opts.detach ? undefined : forwardSignals();
  let created;
  try {
    created = await createContainer({
    id, root: opts.root ?? defaultStateRoot(), foreground: !opts.detach, startedByCaller: true,
    ...(opts.noPivot ? { noPivot: true } : {}), ...(opts.noNewKeyring ? { noNewKeyring: true } : {}),
    ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
    ...(opts.image ? { image: opts.image } : { bundle: opts.bundle ?? '.' }),
    ...(opts.pidFile ? { pidFile: opts.pidFile } : {}),
    ...(opts.consoleSocket ? { consoleSocket: opts.consoleSocket } : {}),
    ...(opts.trace ? { trace: opts.trace } : {}),
    warn,
    ...(opts.cgroupHost ? { cgroupHost: opts.cgroupHost } : {}),
    ...(opts.network ? { network: opts.network } : {}),
    ...(opts.systemdCgroup ? { systemdCgroup: true } : {}),
    ...(opts.adjustSpec ? { adjustSpec: opts.adjustSpec } : {}),
    });
  } catch (err) {
    signals?.stop();
    throw err;
  }
  const { store, record, process: proc, cgroup } = created;
  try {
    await startCreated(store, record, warn, () => proc.go());
  } catch (err) {
    signals?.stop();
    proc.release();
    throw err;
  }
  if (!signals) {
    proc.release();
    return { id, exitCode: 0 };
  }
  signals.target(proc.pid);
  try {
    // A failing exec (program not found…) is reported here with its step, then the init is gone.
    await proc.untilExec();
    const exit = await waitForeground(proc.pid, proc.consoleFd);
    const oomKilled = (await cgroup?.oomKilled(exit.signal === 'SIGKILL')) ?? false;
    return { id, ...exit, ...(oomKilled ? { oomKilled } : {}) };
  } finally {
    signals.stop();
    // The record as create left it, started: nothing else writes a running container's state.
    // --keep: it stays, stopped, with its (empty) cgroup, until `delete`. --trace goes on to the end:
    // a network's DEL calls are part of the run.
    if (!opts.keep) await removeContainer(store, { ...record, started: true }, warn, note, opts.trace ? { trace: opts.trace } : {});
  }
}
