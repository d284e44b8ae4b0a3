// Applies a CgroupPlan to the machine and manages the resulting cgroup: the object the container code
// holds on to for placement (clone3 fd / cgroup.procs), freeze, kill, stats and removal.
import { closeSync, constants, openSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { BpfError, attachDeviceProgram, closeProgramFd, detachDeviceProgram, loadDeviceProgram, programFdById, queryDevicePrograms } from '../native/bpf.js';
import { deviceProgram } from './devices/program.js';
import { sharedDeviceProgram } from './devices/shared-program.js';
import { CgroupError, cgroupFsError, errnoOf } from './errors.js';
import { waitForEvent, readEvents } from './events.js';
import { cgroupFileExists, parseFlatKeyed, readCgroupFile, writeCgroupFile } from './files.js';
import { cgroup2MountContaining } from './mount.js';
import { ownedRootOf } from './path.js';
import { readStats, type CgroupStats } from './stats.js';
import { enableControllers, makeChain, pathChain, removeDirs } from './tree.js';
import type { CgroupPlan, DeviceRule } from './types.js';
import { msSince } from '../host/clock.js';

export interface CgroupHandle {
  /** Absolute path of the container's cgroup directory. */
  readonly dir: string;
  /**
   * True when the cgroup exists before the container's process: it can be born inside (openDirFd with
   * clone3 CLONE_INTO_CGROUP). False when the cgroup is made with the process (systemd's scope, made
   * with the pid of a process that waits): then `place` must run before it goes on.
   */
  readonly bornInside: boolean;
  /** A new O_RDONLY|O_DIRECTORY|O_CLOEXEC fd of the cgroup, for clone3(CLONE_INTO_CGROUP). Caller closes it. */
  openDirFd(): number;
  /** Moves a process (all its threads) into the cgroup. */
  addProcess(pid: number): void;
  /**
   * Puts the container's waiting init into its cgroup: cgroup.procs here; a systemd scope made with it
   * (then its limits) for the systemd driver.
   */
  place(pid: number): void | Promise<void>;
  /** Pids directly in the cgroup. */
  pids(): number[];
  /** Writes cgroup.freeze 1 and resolves once cgroup.events says "frozen 1". */
  freeze(timeoutMs?: number): Promise<void>;
  thaw(timeoutMs?: number): Promise<void>;
  /** SIGKILLs every process in the cgroup and its children (cgroup.kill), resolving once none is left. */
  kill(timeoutMs?: number): Promise<void>;
  /** True while any process is in the cgroup or below it. */
  populated(): boolean;
  stats(): CgroupStats;
  /**
   * True if the OOM killer killed a process in this cgroup (memory.events oom_kill > 0). A systemd
   * scope may have to ask systemd (its cgroup goes with its last process): hence the promise.
   * `initSigkilled`: the container's init died of SIGKILL, which lets a scope whose cgroup and unit
   * are both gone take a rise of its parent's count as its own.
   */
  oomKilled(initSigkilled?: boolean): boolean | Promise<boolean>;
  /** Replaces the device rules (`tsrun update`); null removes the program, allowing every device. */
  setDeviceRules(rules: readonly DeviceRule[] | null): void;
  /**
   * With applyCgroup's `deferDevices`: loads the planned device program now (the verifier's work,
   * with no effect yet), so that it can run while the container process sets itself up.
   */
  loadDevices(): void;
  /** With `deferDevices`: attaches the planned device program (loading it if loadDevices did not). */
  attachDevices(): void;
  /** Removes the cgroup (waiting for exiting processes to leave) and the empty parents tsrun owns. */
  destroy(timeoutMs?: number): Promise<void>;
  /** As destroy, in one rmdir, when the cgroup is empty and has no children; false (nothing done) otherwise. */
  removeIfEmpty(): boolean;
}

/**
 * Creates the cgroup, enables controllers, writes every limit and attaches the device program. On any
 * failure, what this call created is removed again before the error (naming file and errno) is thrown.
 */
/** Told about every file write of applyCgroup, for --trace. */
export type CgroupWriteObserver = (write: { file: string; value: string; field: string }, durationMs: number, result: string) => void;

export interface ApplyOptions {
  /**
   * Leave the device program to loadDevices/attachDevices. runc attaches device rules once the init
   * has made its rootfs (mknod included), just before it execs; create does the same, and loads the
   * program while the init sets up. Without it the program is attached here, before any process.
   */
  deferDevices?: boolean;
  /**
   * The library's warm init (src/process/warm-init.ts) made the cgroup, and waits in it: the one
   * process the directory may already hold. The cgroup is then this container's as if made here.
   */
  warmPid?: number;
}

export function applyCgroup(plan: CgroupPlan, observe?: CgroupWriteObserver, opts: ApplyOptions = {}): CgroupHandle {
  const chain = pathChain(plan.mountPoint, plan.dir);
  const made = makeChain(chain);
  // A cgroup made just now is empty: only one that was there may hold the warm init, or be in use.
  const procs = made.includes(plan.dir) ? '' : (readCgroupFile(plan.dir, 'cgroup.procs') ?? '').trim();
  const warm = opts.warmPid !== undefined && procs === String(opts.warmPid);
  const created = warm ? [...made, plan.dir] : made;
  const preexisting = !created.includes(plan.dir);
  try {
    if (preexisting && procs !== '') {
      throw new CgroupError(`cgroup: ${plan.dir} already exists and has processes in it (is another container using this cgroupsPath?)`, { file: plan.dir });
    }
    writeLimits(plan, chain, observe);
    // A cgroup left over from an earlier run may still carry device programs; with ALLOW_MULTI they would
    // keep applying next to ours, so they are replaced.
    if (!opts.deferDevices && (plan.deviceRules !== null || preexisting)) replaceDeviceRules(plan.dir, plan.deviceRules, preexisting);
  } catch (err) {
    removeDirs(created);
    throw err;
  }
  const deferred = opts.deferDevices && (plan.deviceRules !== null || preexisting) ? { rules: plan.deviceRules, replace: preexisting } : undefined;
  // Created parents outside ownedRoot (absolute paths) are ours too, but only this handle knows it.
  return new Cgroup(plan.dir, plan.ownedRoot, created, deferred);
}

/**
 * Applies a plan to a cgroup someone else has just made with the container's process in it (systemd's
 * transient scope): controllers in its parents, every limit, the device program (or deferred). It
 * creates and removes no directory; whatever device programs the maker attached stay.
 */
export function adoptCgroup(plan: CgroupPlan, observe?: CgroupWriteObserver, opts: ApplyOptions = {}): CgroupHandle {
  writeLimits(plan, pathChain(plan.mountPoint, plan.dir), observe);
  if (!opts.deferDevices && plan.deviceRules !== null) replaceDeviceRules(plan.dir, plan.deviceRules, false);
  const deferred = opts.deferDevices && plan.deviceRules !== null ? { rules: plan.deviceRules, replace: false } : undefined;
  return new Cgroup(plan.dir, plan.dir, [], deferred);
}

/**
 * `tsrun update`: writes a plan's limits into the live cgroup at plan.dir (controllers enabled in its
 * parents as at create; no directory made, device rules untouched). If a write fails, the files
 * already written get their earlier contents back (best effort), so a refused update leaves the
 * limits as they were.
 */
export function updateLimits(plan: CgroupPlan, observe?: CgroupWriteObserver): void {
  if (!cgroupFileExists(plan.dir, 'cgroup.procs')) throw new CgroupError(`cgroup: ${plan.dir} is gone (the container's cgroup)`, { file: plan.dir });
  const before = new Map<string, string | undefined>();
  const recording: CgroupWriteObserver = (w, ms, result) => observe?.(w, ms, result);
  try {
    enableControllers(plan.mountPoint, pathChain(plan.mountPoint, plan.dir), plan.controllers, plan.delegationRoot);
    for (const w of plan.writes) {
      if (!before.has(w.file)) before.set(w.file, readCgroupFile(plan.dir, w.file));
    }
    writeLimits({ ...plan, controllers: [] }, [], recording);
  } catch (err) {
    for (const [file, text] of [...before].reverse()) {
      // Keyed files (io.max) read back as one line per device; each line is one write.
      for (const line of (text ?? '').split('\n').filter((l) => l.trim() !== '')) {
        try { writeCgroupFile(plan.dir, file, line); } catch { /* best effort: the error below names the write that failed */ }
      }
    }
    throw err;
  }
}

function writeLimits(plan: CgroupPlan, chain: string[], observe?: CgroupWriteObserver): void {
  enableControllers(plan.mountPoint, chain, plan.controllers, plan.delegationRoot);
  for (const w of plan.writes) {
    if (w.optional === true && !cgroupFileExists(plan.dir, w.file)) continue;
    const t0 = process.hrtime.bigint();
    try {
      writeCgroupFile(plan.dir, w.file, w.value, w.field);
    } catch (err) {
      observe?.(w, msSince(t0), errnoOf(err) ?? 'error');
      throw err;
    }
    observe?.(w, msSince(t0), 'ok');
  }
}

/**
 * Re-opens an existing container cgroup, e.g. for `tsrun kill` or `delete`. Which empty parents destroy()
 * may remove is worked out as the planner does (ownedRootOf), unless ownedRoot is given.
 */
export function loadCgroup(dir: string, ownedRoot?: string): CgroupHandle {
  if (!cgroupFileExists(dir, 'cgroup.procs')) {
    throw new CgroupError(`cgroup: ${dir} is not a cgroup v2 directory (no cgroup.procs)`, { file: dir });
  }
  return new Cgroup(dir, ownedRoot ?? ownedRootOf(mountPointOf(dir), dir), []);
}

/** The reachable cgroup2 mount point that contains dir (dir itself when none does). */
function mountPointOf(dir: string): string {
  return cgroup2MountContaining(readFileSync('/proc/self/mountinfo', 'utf8'), dir) ?? dir;
}

/** Loads the device program for these rules and attaches it to the cgroup at dir. */
export function attachDeviceRules(dir: string, rules: readonly DeviceRule[]): void {
  replaceDeviceRules(dir, rules, false);
}

/**
 * Puts a program for `rules` on the cgroup (none when null) and, if `replace`, detaches the device
 * programs that were there before. The new one is attached first, so there is no moment without rules.
 */
export function replaceDeviceRules(dir: string, rules: readonly DeviceRule[] | null, replace = true): void {
  const progFd = rules !== null ? loadDeviceRules(dir, rules) : -1;
  try {
    attachLoadedRules(dir, progFd, replace);
  } finally {
    if (progFd >= 0) closeProgramFd(progFd);
  }
}

function deviceRulesError(dir: string, err: unknown): unknown {
  if (!(err instanceof BpfError)) return err;
  return new CgroupError(`cgroup: attaching the device rules program to ${dir} failed: ${err.message}`, {
    file: dir,
    field: 'linux.resources.devices',
    syscall: `bpf(${err.command})`,
    errno: err.errno,
    cause: err,
  });
}

/** The fd of a loaded (not yet attached) program for `rules`. */
function loadDeviceRules(dir: string, rules: readonly DeviceRule[]): number {
  try {
    return loadDeviceProgram(deviceProgram(rules));
  } catch (err) {
    throw deviceRulesError(dir, err);
  }
}

/** A loaded program for `rules` that the process shares (see shared-program.ts), or undefined. */
function sharedDeviceRules(dir: string, rules: readonly DeviceRule[]): number | undefined {
  try {
    return sharedDeviceProgram(deviceProgram(rules));
  } catch (err) {
    throw deviceRulesError(dir, err);
  }
}

/**
 * Attaches the loaded program progFd (none when -1) to the cgroup at dir and, if `replace`, detaches
 * the device programs that were there before. The new one goes first: no moment without rules.
 */
function attachLoadedRules(dir: string, progFd: number, replace: boolean): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    const old = replace ? queryDevicePrograms(fd) : [];
    if (progFd >= 0) attachDeviceProgram(fd, progFd);
    for (const id of old) {
      const oldFd = programFdById(id);
      try {
        detachDeviceProgram(fd, oldFd);
      } finally {
        closeProgramFd(oldFd);
      }
    }
  } catch (err) {
    throw deviceRulesError(dir, err);
  } finally {
    closeSync(fd);
  }
}

class Cgroup implements CgroupHandle {
  readonly bornInside = true;
  /** A loaded device program waiting for attachDevices, or -1. */
  private loadedFd = -1;
  /** loadedFd is the process's shared program: never closed here. */
  private loadedShared = false;

  constructor(
    readonly dir: string,
    private readonly ownedRoot: string,
    private readonly created: string[],
    /** Device rules deferred by applyCgroup, until attachDevices. */
    private pending?: { rules: readonly DeviceRule[] | null; replace: boolean },
  ) {}

  loadDevices(): void {
    if (!this.pending?.rules || this.loadedFd >= 0) return;
    // A cgroup made just now carries no program yet: it may borrow the shared one.
    const fresh = !this.pending.replace && this.created.includes(this.dir);
    const shared = fresh ? sharedDeviceRules(this.dir, this.pending.rules) : undefined;
    this.loadedShared = shared !== undefined;
    this.loadedFd = shared ?? loadDeviceRules(this.dir, this.pending.rules);
  }

  attachDevices(): void {
    if (!this.pending) return;
    this.loadDevices();
    try {
      attachLoadedRules(this.dir, this.loadedFd, this.pending.replace);
    } finally {
      this.dropLoaded();
    }
    this.pending = undefined;
  }

  private dropLoaded(): void {
    if (this.loadedFd >= 0 && !this.loadedShared) closeProgramFd(this.loadedFd);
    this.loadedFd = -1;
    this.loadedShared = false;
  }

  openDirFd(): number {
    // libuv adds O_CLOEXEC to every open(), so the fd never leaks into the container.
    return openSync(this.dir, constants.O_RDONLY | constants.O_DIRECTORY);
  }

  addProcess(pid: number): void {
    writeCgroupFile(this.dir, 'cgroup.procs', String(pid));
  }

  place(pid: number): void {
    this.addProcess(pid);
  }

  pids(): number[] {
    return (readCgroupFile(this.dir, 'cgroup.procs') ?? '').split('\n').filter((l) => l !== '').map(Number);
  }

  async freeze(timeoutMs?: number): Promise<void> {
    writeCgroupFile(this.dir, 'cgroup.freeze', '1');
    await waitForEvent(this.dir, 'frozen', 1, timeoutMs);
  }

  async thaw(timeoutMs?: number): Promise<void> {
    writeCgroupFile(this.dir, 'cgroup.freeze', '0');
    await waitForEvent(this.dir, 'frozen', 0, timeoutMs);
  }

  async kill(timeoutMs?: number): Promise<void> {
    if (cgroupFileExists(this.dir, 'cgroup.kill')) writeCgroupFile(this.dir, 'cgroup.kill', '1');
    else await this.killOneByOne();
    await waitForEvent(this.dir, 'populated', 0, timeoutMs);
  }

  /** For kernels before 5.14: freeze so nothing forks while we signal, SIGKILL every pid, thaw. */
  private async killOneByOne(): Promise<void> {
    await this.freeze();
    for (const dir of subtree(this.dir)) {
      for (const pid of loadCgroup(dir).pids()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await this.thaw();
  }

  setDeviceRules(rules: readonly DeviceRule[] | null): void {
    replaceDeviceRules(this.dir, rules);
  }

  populated(): boolean {
    return readEvents(this.dir)['populated'] === 1;
  }

  stats(): CgroupStats {
    return readStats(this.dir);
  }

  oomKilled(): boolean {
    const text = readCgroupFile(this.dir, 'memory.events');
    return text !== undefined && (parseFlatKeyed(text)['oom_kill'] ?? 0) > 0;
  }

  async destroy(timeoutMs = 10_000): Promise<void> {
    if (this.removeIfEmpty()) return;
    for (const dir of subtree(this.dir).reverse()) await rmdirWhenEmpty(dir, timeoutMs);
    removeDirs(this.ownedParents());
  }

  removeIfEmpty(): boolean {
    this.dropLoaded();
    // EBUSY (processes, or sub-cgroups) leaves it to destroy's walk; ENOENT: someone removed it.
    if (!tryRmdir(this.dir)) return false;
    removeDirs(this.ownedParents());
    return true;
  }

  /**
   * Parents that may go once empty, outermost first: those from the leaf up to ownedRoot (/tsrun for
   * default paths), plus any this handle's apply created. A busy parent (other containers) stays.
   */
  private ownedParents(): string[] {
    const parents = new Set(this.created);
    const within = (d: string): boolean => d === this.ownedRoot || d.startsWith(`${this.ownedRoot}/`);
    for (let d = posix.dirname(this.dir); within(d); d = posix.dirname(d)) parents.add(d);
    parents.delete(this.dir);
    return [...parents].sort((a, b) => a.length - b.length);
  }
}

/** dir and every cgroup below it, parents first (a container may create its own sub-cgroups). */
function subtree(dir: string): string[] {
  const out = [dir];
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) out.push(...subtree(join(dir, entry.name)));
    }
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err;
  }
  return out;
}

/** True when dir was removed or was already gone. */
function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return errnoOf(err) === 'ENOENT';
  }
}

/** rmdir, waiting out EBUSY while killed processes finish leaving the cgroup. */
async function rmdirWhenEmpty(dir: string, timeoutMs: number): Promise<void> {
  try {
    rmdirSync(dir);
    return;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    if (errnoOf(err) !== 'EBUSY') throw cgroupFsError('removing', dir, 'rmdir', err);
  }
  await waitForEvent(dir, 'populated', 0, timeoutMs);
  try {
    rmdirSync(dir);
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw cgroupFsError('removing', dir, 'rmdir', err);
  }
}
