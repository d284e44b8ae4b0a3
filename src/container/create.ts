// `tsrun create` (and the first half of `run`): everything up to the point where the container's
// process has finished its set-up and blocks, waiting for `start`. Six phases (create/): prepare
// (decide everything, make nothing), materialize (state dir and "creating" record, fifo, cgroup with
// its limits), spawn (the init, born in its cgroup), network (CNI ADD for --network bridge, while the
// init waits), hooks (the creation hooks while the init pauses), finish (pid file, console, the record handed over). Each thing made pushes its own undo
// (undo-stack.ts); a failure anywhere unwinds exactly what exists, then runs poststop hooks if the
// init had been made.
import type { ContainerProcess } from '../process/parent.js';
import { noTrace, type TraceSink } from '../process/trace.js';
import type { CgroupHandle, CgroupHost } from '../cgroups/index.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import type { Spec } from '../oci/types.js';
import type { Bundle } from '../oci/bundle.js';
import type { HostView } from '../rootfs/plan.js';
import type { StdioFds } from '../process/stdio.js';
import { quietTrace, quietWarn } from './diagnostics.js';
import type { ImageRunOptions } from './image-bundle.js';
import { UndoStack } from './undo-stack.js';
import type { CreateContext } from './create/context.js';
import { prepare } from './create/prepare.js';
import { materialize } from './create/materialize.js';
import { spawnInit } from './create/spawn.js';
import { poststopAfterFailedCreate, runCreateHooks } from './create/create-hooks.js';
import { finish } from './create/finish.js';
import { attachToNetwork } from './create/network.js';
import type { NetworkRequest } from '../network/phase.js';
import type { WarmInit } from '../process/warm-init.js';
import type { WarmClaim } from './create/warm.js';
import type { PlanMemo } from '../plan/plan-memo.js';

export interface CreateOptions {
  id: string;
  /** Bundle directory; or `image` to run an image (its bundle is made in the state dir). */
  bundle?: string;
  image?: ImageRunOptions;
  /** State root (`--root`). */
  root: string;
  pidFile?: string;
  /** Unix socket that receives the pty master (process.terminal with create / run -d). */
  consoleSocket?: string;
  /** Foreground `run`: the container dies with tsrun, and tsrun relays its pty. */
  foreground?: boolean;
  /** `run`: the caller starts the container through the sync socket (see StartGate), not `tsrun start`. */
  startedByCaller?: boolean;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** fds 3..3+N-1 of tsrun's caller go to the container as they are (--preserve-fds). */
  preserveFds?: number;
  trace?: TraceSink;
  warn?: (message: string) => void;
  /** Where the cgroup v2 hierarchy is and what it offers; default: this machine's (detectCgroupHost). */
  cgroupHost?: () => CgroupHost;
  /** The host as the step planner sees it (rootfs/plan.ts HostView); default: read as it is now. */
  hostView?: HostView;
  /** runc's --systemd-cgroup: systemd makes the cgroup, a transient scope (src/cgroups/systemd). */
  systemdCgroup?: boolean;
  /** --network / -p: the network namespace to make or join, and a CNI network to attach it to. */
  network?: NetworkRequest;
  /** A bundle already loaded and validated (the library builds its config in memory), instead of `bundle`. */
  loadedBundle?: Bundle;
  /** fds of tsrun's that become the process's stdin/stdout/stderr (the library's pipes); default: tsrun's own. */
  stdio?: StdioFds;
  /** A pure change of the loaded config before anything is planned (--init: src/api/init.ts withInit). */
  adjustSpec?: (spec: Spec) => Spec;
  /**
   * The library: keep a warm init for the next container of this source (`label`; its id from
   * `nextId`), and use `taken`, the one made for this id, if it fits (create/warm.ts).
   */
  warm?: { label: string; nextId: () => string; taken?: Promise<WarmInit | undefined> };
  /** The library: clone the container's process on a worker thread, not on Node's (native/warm.ts, spawnOnWorker). */
  onWorker?: boolean;
  /** The library: plans kept per process and reused while their inputs are the same (plan/plan-memo.ts); needs `hostView`. */
  planMemo?: PlanMemo;
  /** See StartOptions.quickReportMs (process/parent.ts). */
  quickReportMs?: () => number | undefined;
}

export interface CreatedContainer {
  record: ContainerRecord;
  store: StateStore;
  process: ContainerProcess;
  cgroup?: CgroupHandle;
  /**
   * The library: starts making the warm init of the next container of this source (create/warm.ts).
   * Its caller says when: not while this container's process sets up, execs or exits, whose kernel
   * work (mounts, namespaces made and torn down) takes the same locks as the clone.
   */
  refillWarm?: () => void;
}

export async function createContainer(opts: CreateOptions): Promise<CreatedContainer> {
  const store = new StateStore(opts.root);
  store.dir(opts.id); // validates the id before anything else
  const ctx: CreateContext = { opts, store, warn: quietWarn(opts.warn), trace: quietTrace(opts.trace ?? noTrace), undo: new UndoStack() };
  let spec: Spec | undefined;
  let init: ContainerProcess | undefined;
  // The library's warm inits: loaded only there (the CLI never has one: src/startup/manifest.ts).
  const warmPhase = opts.warm || opts.onWorker ? await import('./create/warm.js') : undefined;
  const heldWarm = opts.warm?.taken ? warmPhase!.holdWarm(ctx, opts.warm.taken) : undefined;
  let warm: WarmClaim | undefined;
  try {
    const prepared = await prepare(ctx);
    spec = prepared.spec;
    warm = warmPhase && opts.warm ? await warmPhase.claimWarm(ctx, prepared, heldWarm) : undefined;
    const made = materialize(ctx, prepared, warm?.claimed?.init?.pid);
    init = await spawnInit(ctx, prepared, made, { ...warm, ...(opts.onWorker ? { spawnOnWorker: warmPhase?.spawnOnWorker } : {}) });
    await attachToNetwork(ctx, prepared, init);
    await runCreateHooks(ctx, prepared, made, init);
    const record = finish(ctx, made, init);
    return { record, store, process: init, ...(made.cgroup ? { cgroup: made.cgroup } : {}), ...(warm?.refill ? { refillWarm: warm.refill } : {}) };
  } catch (err) {
    // Nothing half-made stays: the process (if any) is gone, then its mounts, cgroup and state.
    await ctx.undo.unwind('create', ctx.warn);
    if (init && spec) await poststopAfterFailedCreate(ctx, spec);
    // A failed container (a program not found…) is often followed by a fixed one of the same source.
    warm?.refill?.();
    throw err;
  }
}
