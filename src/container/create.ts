// `tsrun create` (and the first half of `run`): everything up to the point where the container's
// process has finished its set-up and blocks, waiting for `start`, on the exec fifo. The cgroup is
// made and every limit written before the process exists; the process is born inside it.
import { constants } from 'node:fs';
import { TsrunError } from '../errors.js';
import { loadBundle, type Bundle } from '../oci/bundle.js';
import type { Spec } from '../oci/types.js';
import { buildPlan } from '../plan/build.js';
import type { Plan, Step } from '../plan/types.js';
import { hostCgroup2Mount, realHost } from '../rootfs/host-view.js';
import { beginCallerMounts, finishCallerMounts, removeCallerMounts } from '../rootfs/caller-mounts-host.js';
import * as shim from '../native/shim.js';
import { handOverConsole, startProcess, type ContainerProcess } from '../process/parent.js';
import { callerTerminalSize } from '../process/terminal.js';
import { noTrace, type TraceSink } from '../process/trace.js';
import { applyCgroup, detectCgroupHost, planCgroup, type CgroupHandle, type CgroupHost } from '../cgroups/index.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import type { CallerMounts } from '../rootfs/caller-mounts.js';
import { readProcStat, thisProcess } from '../state/status.js';
import { writePidFile } from '../state/pid-file.js';
import { utcTimestamp } from '../state/timestamp.js';
import { OCI_VERSION } from '../version.js';
import { hasCreateHooks, runHooks, runHooksWarning } from './hooks.js';
import { releaseImageBundle } from './image-release.js';
import { quietTrace, quietWarn } from './diagnostics.js';
import type { ImageRunOptions } from './image-bundle.js';
import type { NetworkRequest } from '../network/phase.js';

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
  trace?: TraceSink;
  warn?: (message: string) => void;
  /** Where the cgroup v2 hierarchy is and what it offers; default: this machine's (detectCgroupHost). */
  cgroupHost?: () => CgroupHost;
  /** --network / -p: the network namespace to make or join, and a CNI network to attach it to. */
  network?: NetworkRequest;
}

export interface CreatedContainer {
  record: ContainerRecord;
  store: StateStore;
  process: ContainerProcess;
  cgroup?: CgroupHandle;
}

const FIFO_SLOT = 0;

/**
 * Where the created init waits for `start`, just before exec. `create` leaves it blocked on the exec
 * fifo (opened before pivot_root hides its path), which a later `tsrun start` writes. `run` starts
 * the container itself and still holds the sync socket, so the init waits for one byte there:
 * no fifo to make, open, write and remove (~1 ms of `run`).
 */
export type StartGate = { fifo: string } | 'caller';

function withStartGate(plan: Plan, gate: StartGate): Plan {
  const wait: Step = gate === 'caller'
    ? { op: 'waitParent', why: 'the container is created: block until tsrun has started it (startContainer hooks, state), then exec' }
    : { op: 'waitRead', slot: FIFO_SLOT, why: 'the container is created: block until `tsrun start`, then exec' };
  const steps = [...plan.steps];
  const exec = steps[steps.length - 1]!;
  // A program that cannot be run is a create-time error (as runc does), not a silent stop after start.
  const check: Step[] = exec.op === 'exec'
    ? [{ op: 'checkExec', args: exec.args, env: exec.env, field: 'process.args', why: 'fail at create, not after start, when the program cannot be found or run' }]
    : [];
  steps.splice(steps.length - 1, 0, ...check, wait);
  if (gate === 'caller') return { ...plan, steps };
  const open: Step = { op: 'openKeep', path: gate.fifo, flags: constants.O_RDWR, slot: FIFO_SLOT, why: 'open the exec fifo while its host path is still reachable; `tsrun start` writes into it' };
  return { ...plan, steps: [open, ...steps] };
}

/** With creation hooks, the child pauses before pivot_root so they run while the host tree is visible. */
function withHookPause(plan: Plan): Plan {
  const pivot = plan.steps.findIndex((s) => s.op === 'pivotRoot' || s.op === 'chroot');
  const steps = [...plan.steps];
  steps.splice(pivot - 1, 0, { op: 'waitParent', field: 'hooks', why: 'prestart, createRuntime and createContainer hooks run now: namespaces exist, pivot_root has not happened' });
  return { ...plan, steps };
}

/** Steps that make the rootfs itself (an image's overlay) go right after mounts are made private. */
function withRootfsSteps(plan: Plan, rootfsSteps: Step[]): Plan {
  if (rootfsSteps.length === 0) return plan;
  const steps = [...plan.steps];
  const i = steps.findIndex((s) => s.op === 'mount' && s.target === '/' && s.source === '');
  steps.splice(i + 1, 0, ...rootfsSteps);
  return { ...plan, steps };
}

export function planContainer(bundle: Bundle, opts: { foreground: boolean; startGate: StartGate; rootfsSteps?: Step[]; noPivot?: boolean; keyring?: string; cgroup2Mount?: string }): Plan {
  const consoleSize = bundle.spec.process?.terminal ? callerTerminalSize() : undefined;
  // create knows it from planning the cgroup; read mountinfo only when nobody did.
  const cgroup2 = opts.cgroup2Mount ?? hostCgroup2Mount();
  const plan = buildPlan(bundle.spec, {
    bundleDir: bundle.dir, rootfs: bundle.rootfs, host: realHost,
    runningAsRoot: process.getuid?.() === 0, dieWithParent: opts.foreground,
    ...(opts.noPivot ? { noPivot: true } : {}), ...(opts.keyring !== undefined ? { newKeyring: opts.keyring } : {}),
    ...(cgroup2 ? { cgroup2Mount: cgroup2 } : {}),
    ...(consoleSize ? { consoleSize } : {}),
  });
  const withRootfs = withRootfsSteps(plan, opts.rootfsSteps ?? []);
  return withStartGate(hasCreateHooks(bundle.spec) ? withHookPause(withRootfs) : withRootfs, opts.startGate);
}

/** Plans the cgroup; a limit the host cannot apply is refused here, before anything is created. */
function planContainerCgroup(spec: Spec, id: string, warn: (m: string) => void, detect: () => CgroupHost = detectCgroupHost): ReturnType<typeof planCgroup> | undefined {
  const host = (() => { try { return detect(); } catch { return undefined; } })();
  if (!host) {
    if (spec.linux?.resources && Object.keys(spec.linux.resources).length > 0) {
      throw new TsrunError('linux.resources: this host has no cgroup v2 hierarchy mounted, so no limit can be applied', { field: 'linux.resources' });
    }
    warn('no cgroup v2 hierarchy is mounted: the container gets no cgroup');
    return undefined;
  }
  const plan = planCgroup(spec, id, host);
  for (const w of plan.warnings) warn(w);
  return plan;
}

/** clone3 or CLONE_INTO_CGROUP is missing (kernels before 5.7, or a seccomp filter refusing clone3). */
function clone3Unsupported(err: unknown): boolean {
  const d = err instanceof TsrunError ? err.details : {};
  return d.syscall === 'clone3' && (d.errno === 'ENOSYS' || d.errno === 'E2BIG' || d.errno === 'EINVAL' || d.errno === 'EPERM');
}

/** The fallback placement: the child waits for the go-ahead, so writing its pid to cgroup.procs first
 * still puts every step of its set-up inside the cgroup. */
function startInCgroupByPid(start: (fd: number, place?: (pid: number) => void) => Promise<ContainerProcess>, cgroup: CgroupHandle, warn: (m: string) => void, trace: TraceSink): Promise<ContainerProcess> {
  if (!process.env.TSRUN_NO_CLONE3) warn('clone3(CLONE_INTO_CGROUP) is not available: placing the container through cgroup.procs');
  return start(-1, (pid) => {
    const t0 = performance.now();
    cgroup.addProcess(pid);
    trace.event({ who: 'parent', group: 'cgroup', syscall: 'cgroups', title: `write ${pid} to ${cgroup.dir}/cgroup.procs`, why: 'no clone3(CLONE_INTO_CGROUP) here: the process is moved into its cgroup while it waits for tsrun\'s go-ahead, so before its first step', result: 'ok', durationMs: performance.now() - t0 });
  });
}

/**
 * Device rules take effect once the init has made its rootfs and waits to exec, as in runc (this also
 * detaches programs a reused cgroup still carried). `rules`: how many the program has, if there is one.
 */
function attachDevices(cgroup: CgroupHandle, rules: number | undefined, trace: TraceSink): void {
  const t0 = performance.now();
  cgroup.attachDevices();
  if (rules === undefined) return;
  trace.event({
    who: 'parent', group: 'cgroup', syscall: 'bpf', title: `attach the device program (${rules} rules) to ${cgroup.dir}`, field: 'linux.resources.devices',
    why: 'the set-up (mknod included) is done and the process has not exec\'d: from here on every device access is checked, as runc does', result: 'ok', durationMs: performance.now() - t0,
  });
}

/**
 * The record of a container being created, written before anything else of it exists and rewritten
 * as things are made: whenever this tsrun is killed, `delete` finds all that it made (creator: see
 * ContainerRecord). An image's spec is not known when its state dir is made: a bare config stands in.
 */
function creatingRecord(id: string, bundle: Bundle | undefined, cgroupPlan?: { dir: string; ownedRoot: string }): ContainerRecord {
  const spec = bundle?.spec ?? { ociVersion: OCI_VERSION };
  return {
    ociVersion: OCI_VERSION, id, pid: 0, pidStartTime: '', bundle: bundle?.dir ?? '', rootfs: bundle?.rootfs ?? '', created: utcTimestamp(),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
    ...(cgroupPlan ? { cgroupDir: cgroupPlan.dir, cgroupOwnedRoot: cgroupPlan.ownedRoot } : {}),
    started: false, config: spec, creator: thisProcess(),
  };
}

export async function createContainer(opts: CreateOptions): Promise<CreatedContainer> {
  const warn = quietWarn(opts.warn);
  const trace = quietTrace(opts.trace ?? noTrace);
  const store = new StateStore(opts.root);
  store.dir(opts.id); // validates the id before anything else
  let cgroup: CgroupHandle | undefined;
  let proc: ContainerProcess | undefined;
  // An image's bundle lives in the state dir, so that dir comes first; a bundle on disk is checked first.
  const fromImage = opts.image !== undefined;
  const early = fromImage ? undefined : loadBundle(opts.bundle ?? '.');
  // Only a directory this call created may be removed on failure: never a same-named container's.
  let ownsDir = false;
  let createdSpec: Spec | undefined;
  let callerMounts: CallerMounts | undefined;
  let networkAttached = false;
  if (fromImage) { store.createDir(opts.id, creatingRecord(opts.id, undefined)); ownsDir = true; }
  try {
    // Loaded only for an image: a plain bundle never pays for the image code (nor does the snapshot).
    const image = opts.image ? await (await import('./image-bundle.js')).prepareImageBundle(opts.image, store.dir(opts.id)) : undefined;
    const given = image?.bundle ?? early!;
    // The network is decided before anything is made: an unknown network is an error that leaves nothing.
    const network = opts.network ? (await import('../network/phase.js')).prepareNetwork(given.spec, opts.network) : undefined;
    const bundle = network ? { ...given, spec: network.spec } : given;
    const spec = bundle.spec;
    createdSpec = spec;
    if (spec.process?.terminal && !opts.foreground && !opts.consoleSocket) {
      throw new TsrunError('process.terminal is true: give --console-socket to receive the pty (or set terminal to false)', { field: 'process.terminal' });
    }
    const cgroupPlan = planContainerCgroup(spec, opts.id, warn, opts.cgroupHost);
    const plan = planContainer(bundle, {
      foreground: opts.foreground ?? false, startGate: opts.startedByCaller ? 'caller' : { fifo: store.fifoPath(opts.id) }, ...(cgroupPlan ? { cgroup2Mount: cgroupPlan.mountPoint } : {}), ...(image ? { rootfsSteps: image.rootfsSteps } : {}),
      ...(opts.noPivot ? { noPivot: true } : {}), ...(opts.noNewKeyring ? {} : { keyring: opts.id }),
    });
    // Recorded before the cgroup and the process exist: if tsrun is killed from here on, `delete
    // --force` finds them (and status says "creating" while this process lives).
    let record = creatingRecord(opts.id, bundle, cgroupPlan);
    if (fromImage) store.write(record);
    else { store.createDir(opts.id, record); ownsDir = true; }
    const tracked = beginCallerMounts(plan, bundle.rootfs, warn);
    if (!opts.startedByCaller) shim.mkfifo(store.fifoPath(opts.id), 0o600);
    cgroup = cgroupPlan ? applyCgroup(cgroupPlan, (w, ms, result) => trace.event({
      who: 'parent', group: 'cgroup', syscall: 'write', title: `write ${JSON.stringify(w.value)} to ${cgroupPlan.dir}/${w.file}`,
      field: w.field, why: 'a limit is written before the process exists, so even its set-up is accounted', result, durationMs: ms,
    }), { deferDevices: true }) : undefined;
    if (cgroup && cgroupPlan) {
      trace.event({ who: 'parent', group: 'cgroup', syscall: 'cgroups', title: `cgroup ${cgroup.dir}${cgroupPlan.deviceRules ? ` with a device program of ${cgroupPlan.deviceRules.length} rules` : ''}`, why: 'made before the process exists, so that its limits count from the process\'s first step (the clone line below says how it gets in)', result: 'ok', ...(cgroupPlan.deviceRules ? { field: 'linux.resources.devices' } : {}) });
    }
    const cgroupFd = cgroup ? cgroup.openDirFd() : -1;
    const recordFor = (pid: number): ContainerRecord => ({
      ...record, pid, pidStartTime: readProcStat(pid)?.startTime ?? '', ...(tracked ? { callerMounts: tracked } : {}),
    });
    // The init is recorded before it runs its plan when only its pid could find it later: without a
    // cgroup (cgroup.kill finds it otherwise), before it mounts in the caller's table, and for hooks
    // (which may ask `tsrun state`). Otherwise the next write has it: one state.json write less.
    const recordInitNow = !cgroup || tracked !== undefined || hasCreateHooks(spec);
    const start = (fd: number, place?: (pid: number) => void): Promise<ContainerProcess> => startProcess(plan, {
      trace, traceSteps: opts.trace !== undefined, cgroupFd: fd,
      // A foreground run of a container born in its cgroup (or without one) sets up while tsrun
      // loads the device program (and writes its state, if it must now): two cores at work.
      early: place === undefined && (opts.foreground ?? false) && tracked === undefined,
      // From the go-ahead on, a failure must undo whatever the plan mounted in the caller's table.
      beforeGo: (pid) => { place?.(pid); callerMounts = tracked; record = recordFor(pid); if (recordInitNow) store.write(record); cgroup?.loadDevices(); },
      atWaiting: () => { if (cgroup) attachDevices(cgroup, cgroupPlan?.deviceRules?.length, trace); },
    });
    try {
      if (!cgroup) {
        proc = await start(-1);
      } else if (process.env.TSRUN_NO_CLONE3) {
        proc = await startInCgroupByPid(start, cgroup, warn, trace);
      } else {
        try {
          proc = await start(cgroupFd);
        } catch (err) {
          if (!clone3Unsupported(err)) throw err;
          proc = await startInCgroupByPid(start, cgroup, warn, trace);
        }
      }
    } finally {
      if (cgroupFd >= 0) shim.closeFd(cgroupFd);
    }
    // CNI ADD while the init waits, set up, before it can exec (and before the hooks, which may want the address).
    if (network?.cni) {
      networkAttached = true;
      await (await import('../network/phase.js')).attachPrepared(network, { stateDir: store.dir(opts.id), containerId: opts.id, pid: proc.pid, trace });
    }
    if (hasCreateHooks(spec)) {
      const state = { ociVersion: OCI_VERSION, id: opts.id, status: 'creating' as const, pid: proc.pid, bundle: bundle.dir, annotations: spec.annotations ?? {} };
      // prestart is the legacy hook, called as if the container were created (crun and the suite agree).
      for (const phase of ['prestart', 'createRuntime', 'createContainer'] as const) {
        await runHooks(phase, spec, phase === 'prestart' ? { ...state, status: 'created' as const } : state, store.dir(opts.id), cgroup?.dir);
      }
      await proc.continue();
    }
    if (callerMounts) {
      callerMounts = finishCallerMounts(callerMounts);
      record = { ...record, callerMounts };
      store.write(record);
    }
    if (opts.pidFile) writePidFile(opts.pidFile, proc.pid);
    if (opts.consoleSocket) handOverConsole(proc, opts.consoleSocket);
    // Done: from now on the status comes from the init. `run` writes the record itself as it starts
    // the container (until then a killed `run` leaves a stopped container, whose init dies with it).
    const { creator: _done, ...created } = record;
    if (!opts.startedByCaller) store.write(created);
    return { record: created, store, process: proc, ...(cgroup ? { cgroup } : {}) };
  } catch (err) {
    // Nothing half-made stays: the process (if any) is gone, then its cgroup and state.
    if (proc) {
      try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
      proc.release();
      await shim.waitPid(proc.pid).catch(() => 0);
    }
    if (callerMounts) {
      try { removeCallerMounts(callerMounts, warn); } catch (e) { warn(`after the failed create: ${(e as Error).message}`); }
    }
    if (networkAttached) {
      try { await (await import('../network/phase.js')).detachNetwork(store.dir(opts.id), { trace, bestEffort: true }); } catch (e) { warn(`after the failed create: ${(e as Error).message}`); }
    }
    if (cgroup) {
      // A process the failure left in it (one spawned before its handle came back) is killed first.
      try { if (cgroup.populated()) await cgroup.kill(); } catch { /* destroy says what is wrong */ }
      await cgroup.destroy().catch((e: unknown) => warn(`after the failed create: ${(e as Error).message}`));
    }
    if (ownsDir) {
      try {
        if (fromImage) releaseImageBundle(store.dir(opts.id), { keepUpper: false });
      } finally {
        store.remove(opts.id);
      }
    }
    // runtime-spec: a failed create hook destroys the container, then poststop hooks still run.
    if (proc && createdSpec?.hooks?.poststop?.length) {
      const state = { ociVersion: OCI_VERSION, id: opts.id, status: 'stopped' as const, bundle: opts.bundle ?? store.dir(opts.id), annotations: createdSpec.annotations ?? {} };
      await runHooksWarning('poststop', createdSpec, state, warn);
    }
    throw err;
  }
}
