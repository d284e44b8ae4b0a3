// The parent side of starting a container process (runc's process_linux.go; the child side is
// native-bindings/shim.c): clone through the shim, write the id maps and place the child in its
// cgroup while it waits, give it the go-ahead, then read its reports until the sync socket hits EOF
// (exec happened) or a step fails.
import { writeFileSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { encodePlan } from '../native/encode-plan.js';
import { decodeWaitStatus, errnoName, errnoText } from '../native/errno.js';
import { REPORT } from '../native/ops.js';
import * as shim from '../native/shim.js';
import { spawnSettings } from '../native/spawn-settings.js';
import { describeStep, namespaceManPage, skipReason, stepGroup, stepSyscall } from '../abi/describe-step.js';
import { NAMESPACE_FLAGS, NAMESPACE_ISOLATES, idMapText, type NamespaceType } from '../abi/namespaces.js';
import type { Plan, Step } from '../abi/steps.js';
import { writeMapsWithHelpers } from '../namespaces/subordinate-ids.js';
import { userNamespaceHint } from '../namespaces/userns-errors.js';
import type { TraceSink } from './trace.js';

export interface StartOptions {
  trace: TraceSink;
  /** Ask the child to report every step (each report is a round-trip: only when tracing). */
  traceSteps: boolean;
  /** O_DIRECTORY fd of the container's cgroup for clone3(CLONE_INTO_CGROUP), or -1. */
  cgroupFd?: number;
  /**
   * The child needs nothing from tsrun before its first step (no id maps to write, no cgroup.procs
   * placement): it runs its plan right away, while beforeGo does tsrun's share (state, the device
   * program) on the other core. Only with a start gate and a parent-death signal, so that a tsrun
   * that dies meanwhile takes the half-made container with it.
   */
  early?: boolean;
  /**
   * Called with the pid as soon as it is known; unless `early`, the child waits until it returns (or
   * until the promise it returns settles: systemd's placement is a D-Bus job).
   */
  beforeGo?: (pid: number) => void | Promise<void>;
  /** Called once the child has finished its set-up and waits (start gate or hook pause). */
  atWaiting?: () => void;
  /**
   * Run the plan in this warm init (process/warm-init.ts) instead of cloning: it is in its namespaces
   * and cgroup already: `send` gives it the plan and the fds (each at its own number there), after
   * which it is the container's process.
   */
  warm?: { init: Pick<shim.SpawnResult, 'pid' | 'syncFd' | 'initCopy'>; send: (plan: Buffer, fds: number[]) => void };
  /** Clone on a worker thread (the library: native/warm.ts, spawnOnWorker) instead of on this one. */
  spawnOnWorker?: (plan: Buffer, cgroupFd: number) => Promise<shim.SpawnResult>;
  /**
   * How long to wait for the child's next report on this thread before a worker thread reads it
   * (undefined: the settings'). The library says 0 while it makes other containers: a wait here
   * would hold up their planning (asked at each read).
   */
  quickReportMs?: () => number | undefined;
}

const ns = (start: bigint, end: bigint): number => Number(end - start) / 1e6;

function parentEvent(trace: TraceSink, title: string, why: string, syscall: string, fn: () => void): void {
  const t0 = process.hrtime.bigint();
  try {
    fn();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    trace.event({ who: 'parent', group: 'id maps', syscall, title, why, result: code, durationMs: ns(t0, process.hrtime.bigint()) });
    throw err;
  }
  trace.event({ who: 'parent', group: 'id maps', syscall, title, why, result: 'ok', durationMs: ns(t0, process.hrtime.bigint()) });
}

function writeIdMaps(pid: number, plan: Plan, trace: TraceSink): void {
  const maps = plan.idMaps;
  if (!maps) return;
  if (maps.writer === 'helper') {
    const args = (m: typeof maps.uid): string => idMapText(m).trim().replace(/\n/g, ' ');
    parentEvent(trace, `newuidmap ${pid} ${args(maps.uid)}; newgidmap ${pid} ${args(maps.gid)}`, 'not root: ids beyond the user\'s own are mapped by the setuid helpers, within its /etc/subuid and /etc/subgid ranges', 'user_namespaces', () => writeMapsWithHelpers(pid, maps));
    return;
  }
  const files: [string, string, string][] = [
    ['uid_map', idMapText(maps.uid), 'uid N inside the user namespace is uid M outside'],
    ['setgroups', maps.setgroups, 'an unprivileged writer must deny setgroups before writing gid_map'],
    ['gid_map', idMapText(maps.gid), 'gid N inside the user namespace is gid M outside'],
  ];
  for (const [file, content, why] of files) {
    if (file === 'setgroups' && content === 'allow') continue;
    parentEvent(trace, `write ${JSON.stringify(content.trim())} to /proc/${pid}/${file}`, why, 'user_namespaces', () => {
      try {
        writeFileSync(`/proc/${pid}/${file}`, content);
      } catch (err) {
        const field = file === 'gid_map' ? 'linux.gidMappings' : 'linux.uidMappings';
        throw new TsrunError(`writing /proc/${pid}/${file} (${field}): ${(err as NodeJS.ErrnoException).code}`, { field, file: `/proc/${pid}/${file}`, errno: (err as NodeJS.ErrnoException).code, cause: err });
      }
    });
  }
}

/** Turns a failure report into the error a person reads: what, which step, which field, errno. */
export function stepError(plan: Plan, stepIndex: number, err: number, syscall: string, euid = process.geteuid?.() ?? 0): TsrunError {
  const errno = errnoName(err);
  const text = errnoText(err);
  // The clone of the container process in a new user namespace: a user may be refused it by the host.
  const userns = stepIndex === -1 && (plan.cloneFlags & NAMESPACE_FLAGS.user) !== 0 && (syscall === 'clone' || syscall === 'clone3') ? userNamespaceHint(errno, euid) : undefined;
  if (userns) return new TsrunError(`creating the container process failed: ${text} from ${syscall}: ${userns}`, { syscall, errno, step: stepIndex, field: 'linux.namespaces' });
  if (stepIndex <= -2) {
    const join = plan.namespaces.filter((n) => n.action === 'join')[-2 - stepIndex];
    const field = 'linux.namespaces';
    return new TsrunError(`joining ${join?.type ?? '?'} namespace ${join?.path ?? ''} (${field}): ${text} from ${syscall}`, { field, syscall, errno });
  }
  const step = plan.steps[stepIndex];
  if (!step) return new TsrunError(`creating the container process failed: ${text} from ${syscall}`, { syscall, errno, step: stepIndex });
  const where = `step ${stepIndex}${step.field ? `, ${step.field}` : ''}`;
  // The chdir step's own check (shim.c, step_chdir): getcwd says the directory is unreachable.
  const problem = syscall === 'getcwd' && errno === 'EXDEV'
    ? 'the directory is not inside the container\'s root (getcwd: unreachable), refused'
    : `${text} from ${syscall}`;
  return new TsrunError(`${describeStep(step)} (${where}): ${problem}`, {
    step: stepIndex, stepTitle: describeStep(step), syscall, errno, ...(step.field ? { field: step.field } : {}),
  });
}

function childEvent(plan: Plan, r: shim.Report, result: string): Parameters<TraceSink['event']>[0] {
  const step = plan.steps[r.step];
  return {
    who: 'child', step: r.step, title: step ? describeStep(step) : `step ${r.step}`, result,
    ...(step ? { syscall: stepSyscall(step), group: stepGroup(step) } : {}),
    ...(step?.why ? { why: step.why } : {}), ...(step?.field ? { field: step.field } : {}),
    ...(r.endNs > 0n ? { durationMs: ns(r.startNs, r.endNs) } : {}),
  };
}

/** A container process that has been cloned and is running its plan. */
export interface ContainerProcess {
  pid: number;
  /** pty master sent by the child when process.terminal is true. */
  consoleFd?: number;
  /** Reads reports until the child execs (EOF) — rejects with the failing step (the child killed) otherwise. */
  untilExec(): Promise<void>;
  /** Lets a child blocked in a waitParent step go on, and follows it to its next wait (or exec); destroys it on failure. */
  continue(): Promise<void>;
  /** Lets a child blocked in a waitParent step go on; its reports are read by untilExec. */
  go(): void;
  /** Closes tsrun's end of the sync socket (the child keeps running). */
  release(): void;
  /**
   * The undo of startProcess: SIGKILLs and reaps the child (once, however often it is called: a pid
   * is never signalled after it was reaped, when it may be another process's), closes the sync
   * socket and the pty master tsrun still holds.
   */
  destroy(): Promise<void>;
}

const isWaitStep = (s: Step): boolean => s.op === 'waitParent' || s.op === 'waitRead';

/**
 * Reads reports until WAITING (with `stopAtWaiting`: the child blocks at a wait step) or EOF (it
 * exec'd, or died). Rejects with the failing step's error. Resolves with the step it waits at, or
 * 'eof'.
 */
async function follow(plan: Plan, syncFd: number, trace: TraceSink, proc: { consoleFd?: number }, stopAtWaiting: boolean, quickMs: () => number): Promise<number | 'eof'> {
  for (;;) {
    const quick = shim.recvReportWithin(syncFd, quickMs());
    const r = quick === 'timeout' ? await shim.recvReport(syncFd) : quick;
    if (!r) return 'eof';
    switch (r.kind) {
      case REPORT.STEP_OK: trace.event(childEvent(plan, r, 'ok')); break;
      case REPORT.SKIPPED: trace.event({ ...childEvent(plan, r, 'skipped (ENOENT)'), ...(plan.steps[r.step] ? { why: skipReason(plan.steps[r.step]!) } : {}) }); break;
      case REPORT.EXEC: trace.event({ ...childEvent(plan, r, 'ok'), result: 'exec' }); break;
      case REPORT.FD: proc.consoleFd = r.fd; break;
      case REPORT.WAITING:
        trace.event({ ...childEvent(plan, r, 'ok'), result: 'waiting' });
        if (stopAtWaiting) return r.step;
        break;
      case REPORT.STEP_FAILED:
        trace.event(childEvent(plan, r, errnoName(r.err)));
        throw stepError(plan, r.step, r.err, r.syscall);
      default: break;
    }
  }
}

/**
 * How long the event loop may block reading the child's next report before a worker thread takes
 * over. A set-up step takes microseconds to a few milliseconds; signals arriving meanwhile are held by
 * libuv and handled right after (tsrun holds them until the container exists anyway).
 */
const QUICK_REPORT_MS = 50;

/**
 * TSRUN_TWO_STAGE=1 starts every container process through tsrun-init's two-stage spawn (tsrun-init
 * clones it), also when the plan needs none (the tests compare both shapes).
 */
function forceTwoStage(): boolean {
  return spawnSettings().twoStage;
}

/** TSRUN_QUICK_REPORT_MS=0 sends every read to the worker thread (the tests check both ways). */
function quickReportMs(): number {
  return spawnSettings().quickReportMs ?? QUICK_REPORT_MS;
}

/** --console-socket: the pty master goes to whoever listens there, and tsrun keeps no copy. */
export function handOverConsole(proc: ContainerProcess, socketPath: string): void {
  if (proc.consoleFd === undefined) return;
  shim.sendFd(socketPath, proc.consoleFd);
  shim.closeFd(proc.consoleFd);
  delete proc.consoleFd;
}

/** SIGKILLs and reaps the child; its wait status, if it could be had. */
async function killAndReap(pid: number): Promise<number | undefined> {
  try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  return shim.waitPid(pid).catch(() => undefined);
}

/**
 * Follows the child to its next wait step after `from`. EOF first means it ended without a report:
 * killed (SIGKILL, the OOM killer) or crashed; it is reaped (`end`), and the error says how it ended.
 */
async function followToWait(plan: Plan, syncFd: number, trace: TraceSink, proc: { consoleFd?: number }, from: number, end: () => Promise<number | undefined>, quickMs: () => number): Promise<number | 'eof'> {
  const at = await follow(plan, syncFd, trace, proc, true, quickMs);
  if (at !== 'eof' || !plan.steps.some((s, i) => i >= from && isWaitStep(s))) return at;
  const status = await end();
  const exit = status === undefined ? undefined : decodeWaitStatus(status);
  const how = exit === undefined ? '' : exit.signal !== undefined ? ` (killed by signal ${exit.signal})` : ` (exit status ${exit.exitCode})`;
  throw new TsrunError(`the container process ended during its set-up without reporting a failure${how}`, { syscall: 'read(sync socket)' });
}

/** The CLONE_NEW* flags of the plan's clone, by name (a time namespace is not one: see namespaces/plan.ts). */
function cloneFlagNames(plan: Plan): string[] {
  return (Object.entries(NAMESPACE_FLAGS) as [NamespaceType, number][])
    .filter(([, flag]) => (plan.cloneFlags & flag) !== 0)
    .sort(([a], [b]) => CLONE_ORDER.indexOf(a) - CLONE_ORDER.indexOf(b))
    .map(([type]) => `CLONE_NEW${type === 'network' ? 'NET' : type === 'mount' ? 'NS' : type.toUpperCase()}`);
}
const CLONE_ORDER: NamespaceType[] = ['user', 'pid', 'network', 'ipc', 'uts', 'mount', 'cgroup', 'time'];

/** Why this plan needs tsrun-init's two stages (shim.c, stage1_main), one reason per need. */
function twoStageReasons(plan: Plan): string[] {
  const reasons: string[] = [];
  if (plan.namespaces.some((n) => n.action === 'join')) reasons.push('setns into a mount or user namespace needs a single-threaded process, and a joined PID namespace only takes children');
  if (plan.namespaces.some((n) => n.type === 'user' && n.action === 'create')) reasons.push('a new user namespace gets its id maps from tsrun before the container process\'s first step');
  if (plan.steps.some((s) => s.beforeClone)) reasons.push('a new time namespace takes its clock offsets before its first process, which this clone makes');
  return reasons.length ? reasons : ['two stages asked for (TSRUN_TWO_STAGE)'];
}

/** `clone3(A|B|C)`: the call as the code makes it (shim.c: clone_init, clone_child). */
const call = (syscall: 'clone' | 'clone3', flags: string[]): string => `${syscall}(${flags.join('|') || '0'})`;

function traceSpawn(trace: TraceSink, plan: Plan, spawned: shim.SpawnResult, ms: number): void {
  const copy = spawned.initCopy === 'read-only mount' ? 'a read-only mount of tsrun-init that is in no mount table' : 'a sealed memfd copy of tsrun-init';
  const vfork = `it borrows tsrun's memory only until it execs ${copy} (never a copy of Node, never a file the container could write)`;
  // shim.c's clone_init: clone3 exactly when it is given the cgroup's fd (CLONE_INTO_CGROUP), else glibc's clone.
  const syscall = spawned.clone3 ? 'clone3' : 'clone';
  const flags = ['CLONE_VM', 'CLONE_VFORK', ...(spawned.twoStage ? [] : [...(spawned.clone3 ? ['CLONE_INTO_CGROUP'] : []), ...cloneFlagNames(plan)])];
  const cgroup = spawned.clone3 ? 'born in its cgroup (CLONE_INTO_CGROUP): its set-up is accounted from the first instruction' : 'outside any cgroup of the container\'s: tsrun places it before its first step, if it has one';
  trace.event({
    who: 'parent', group: 'namespaces', syscall,
    title: `${call(syscall, flags)} → pid ${spawned.pid}, which execs tsrun-init`,
    why: spawned.twoStage
      ? `the first stage, in tsrun's namespaces and cgroup: ${vfork}, which does what must come before the container process exists, then clones it`
      : `create the container process in new namespaces, ${cgroup}; ${vfork}, which runs the steps below`,
    result: 'ok', durationMs: ms,
  });
}

/**
 * A warm init's share of a spawn: it gets the plan and the fds it names (tsrun's 0-2 among them, as a
 * clone now would have had them), at the numbers the plan says. It is then what tsrun_spawn returns.
 */
function sendToWarm(warm: NonNullable<StartOptions['warm']>, encoded: Buffer, plan: Plan): shim.SpawnResult {
  warm.send(encoded, [0, 1, 2, ...(plan.passFds ?? [])]);
  return { ...warm.init, twoStage: false, clone3: true };
}

/**
 * Starts the container process (see tsrun_spawn), writes its id maps, lets `beforeGo` place it
 * (cgroup), sends the go-ahead, and follows it until it waits for `start` (a waitRead step) or execs.
 */
export async function startProcess(plan: Plan, opts: StartOptions): Promise<ContainerProcess> {
  const { trace } = opts;
  const twoStage = plan.namespaces.some((n) => n.action === 'join' || (n.type === 'user' && n.action === 'create')) || plan.steps.some((s) => s.beforeClone) || forceTwoStage();
  const early = opts.early === true && !plan.idMaps && !twoStage && plan.dieWithParent;
  const encoded = encodePlan(early ? { ...plan, waitForParent: false } : plan, { trace: opts.traceSteps });
  shim.preload();
  const t0 = process.hrtime.bigint();
  const onWorker = opts.spawnOnWorker && !forceTwoStage() ? opts.spawnOnWorker : undefined;
  const quickMs = (): number => opts.quickReportMs?.() ?? quickReportMs();
  const spawned = opts.warm ? sendToWarm(opts.warm, encoded, plan)
    : onWorker ? await onWorker(encoded, opts.cgroupFd ?? -1) : shim.spawn(encoded, opts.cgroupFd ?? -1, { twoStage: forceTwoStage() });
  if (!opts.warm) traceSpawn(trace, plan, spawned, ns(t0, process.hrtime.bigint()));
  const syncFd = spawned.syncFd;
  let released = false;
  const release = (): void => { if (!released) { released = true; shim.closeFd(syncFd); } };
  // With two stages, tsrun-init's first stage is our child too until it exits (right after it
  // reports the container's pid); it is reaped once the container process has reported back.
  let stage1 = spawned.twoStage ? spawned.pid : undefined;
  const reapStage1 = async (): Promise<void> => {
    if (stage1 === undefined) return;
    const pid = stage1;
    stage1 = undefined;
    if (shim.waitPidNohang(pid) === undefined) await shim.waitPid(pid);
  };
  let pid = spawned.pid;
  /** The wait step the child last stopped at. */
  let waitedAt = -1;
  let ended: Promise<number | undefined> | undefined;
  const end = (): Promise<number | undefined> => (ended ??= killAndReap(pid));
  const proc: ContainerProcess = {
    pid,
    untilExec: async () => {
      try {
        await follow(plan, syncFd, trace, proc, false, quickMs);
      } catch (err) {
        await end();
        throw err;
      } finally {
        release();
      }
    },
    release,
    continue: async () => {
      try {
        shim.sendByte(syncFd);
        const at = await followToWait(plan, syncFd, trace, proc, waitedAt + 1, end, quickMs);
        if (at !== 'eof') waitedAt = at;
      } catch (err) {
        await proc.destroy();
        throw err;
      }
    },
    go: () => shim.sendByte(syncFd),
    destroy: async () => {
      await end();
      release();
      if (proc.consoleFd !== undefined) {
        shim.closeFd(proc.consoleFd);
        delete proc.consoleFd;
      }
    },
  };
  try {
    if (spawned.twoStage) {
      // The first stage reports the container process's pid (or a failed setns or clone) and exits.
      const t1 = process.hrtime.bigint();
      const next = async (): Promise<shim.Report | undefined> => {
        const quick = shim.recvReportWithin(syncFd, quickMs());
        return quick === 'timeout' ? shim.recvReport(syncFd) : quick;
      };
      let r = await next();
      // The steps it runs before the clone (a new time namespace) report as the container's do.
      while (r?.kind === REPORT.STEP_OK) { trace.event(childEvent(plan, r, 'ok')); r = await next(); }
      if (!r) throw new TsrunError('tsrun-init exited without reporting the container process');
      if (r.kind === REPORT.STEP_FAILED) { trace.event(childEvent(plan, r, errnoName(r.err))); throw stepError(plan, r.step, r.err, r.syscall); }
      pid = r.value;
      proc.pid = pid;
      // shim.c's clone_child: clone3 with CLONE_INTO_CGROUP when it has the cgroup's fd, else clone.
      const intoCgroup = opts.cgroupFd !== undefined && opts.cgroupFd >= 0;
      const syscall = intoCgroup ? 'clone3' : 'clone';
      const flags = ['CLONE_PARENT', ...(intoCgroup ? ['CLONE_INTO_CGROUP'] : []), ...cloneFlagNames(plan)];
      trace.event({
        who: 'parent', group: 'namespaces', syscall,
        title: `tsrun-init ${plan.namespaces.some((n) => n.action === 'join') ? 'joins the container\'s namespaces (setns), then ' : ''}clones the container process: ${call(syscall, flags)} → pid ${pid}`,
        why: `${twoStageReasons(plan).join('; ')}; ${intoCgroup ? 'born in the container\'s cgroup (CLONE_INTO_CGROUP)' : 'placed in a cgroup, if any, before its first step'}`,
        result: 'ok', durationMs: ns(t1, process.hrtime.bigint()),
      });
    }
    for (const n of plan.namespaces) {
      // Time and cgroup namespaces are not the clone's: an unshare step makes them (namespaces/plan.ts).
      const by = n.action === 'create' && (plan.cloneFlags & n.flag) === 0 ? plan.steps.findIndex((s) => s.op === 'unshare' && (s.flags & n.flag) !== 0) : -1;
      trace.event({ who: 'parent', group: 'namespaces', syscall: n.action === 'create' ? namespaceManPage(n.type) : 'setns', title: `${n.action === 'create' ? 'new' : 'joined'} ${n.type} namespace${n.path ? ` ${n.path}` : ''}${by >= 0 ? ` (made by step ${by}: unshare)` : ''}`, why: `isolates ${NAMESPACE_ISOLATES[n.type]}`, result: 'ok' });
    }
    writeIdMaps(pid, plan, trace);
    const placed = opts.beforeGo?.(pid);
    if (placed) await placed;
    if (!early) {
      try {
        shim.sendByte(syncFd);
      } catch {
        // EPIPE: the child is gone already; followToWait reads its EOF and says how it ended.
      }
    }
    const at = await followToWait(plan, syncFd, trace, proc, 0, end, quickMs);
    if (at !== 'eof') waitedAt = at;
    await reapStage1();
    opts.atWaiting?.();
    return proc;
  } catch (err) {
    await proc.destroy();
    await reapStage1().catch(() => undefined);
    throw err;
  }
}
