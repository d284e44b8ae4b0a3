// The shim's calls that only the library makes: its warm inits (src/process/warm-init.ts), and spawns
// on a worker thread. Kept out of shim.ts so that the CLI's startup snapshot does not carry them.
import { check, initProgram, loadShim, spawnFlags, spawnOutcome, waitpidError, type KoffiFunction, type SpawnResult } from './shim.js';

/** The id of the thread this module runs on (each worker thread has its own copy of the module). */
let thisThread: number | undefined;

/** What a warm init is made for (tsrun_spawn_warm). */
export interface WarmSpawnRequest {
  cloneFlags: number;
  /** Its cgroup, made by the call (its parent must exist), and the hierarchy root's cgroup.procs: where it goes to remove that cgroup if never used. */
  cgroupDir: string;
  rootProcs: string;
}

/**
 * Clones a warm init on a worker thread (see tsrun_spawn_warm): in new namespaces and a cgroup it
 * makes, it waits for sendPlan. Resolves with its pid, sync socket and the mountinfo fd opened before
 * its clone; rejects as spawn does (nothing made left).
 */
export function spawnWarm(req: WarmSpawnRequest): Promise<SpawnResult & { mountsFd: number }> {
  const init = initProgram();
  // This thread's id (the call runs on another): the init goes when this thread ends, also a worker
  // thread that is terminated, which closes none of the fds it opened.
  const owner = (thisThread ??= loadShim().threadId());
  return new Promise((resolve, reject) => {
    const out: Record<string, unknown> = {};
    loadShim().spawnWarm.async(req.cloneFlags, req.cgroupDir, req.rootProcs, owner, init, spawnFlags({}), out, (err: unknown, rc: number) => {
      if (err) return reject(err);
      try { resolve({ ...spawnOutcome(rc, out, init), mountsFd: Number(out.mounts_fd) }); } catch (e) { reject(e); }
    });
  });
}

/**
 * Has a warm init run an encoded plan now (tsrun_warm_ahead; plan/ahead.ts), on a worker thread.
 * Resolves once it ran every step; rejects with the failed call (the init is then of no use).
 */
export function runAhead(syncFd: number, plan: Buffer): Promise<void> {
  const what = Buffer.alloc(64);
  return new Promise((resolve, reject) => {
    loadShim().warmAhead.async(syncFd, plan, plan.length, what, what.length, (err: unknown, rc: number) => {
      if (err) return reject(err);
      const name = what.subarray(0, Math.max(0, what.indexOf(0))).toString('utf8');
      try { check(rc, name || 'warm init'); resolve(); } catch (e) { reject(e); }
    });
  });
}

/** Gives a warm init its plan and the fds it names (fds[i] becomes fd targets[i] there). */
export function sendPlan(syncFd: number, plan: Buffer, fds: readonly number[], targets: readonly number[]): void {
  check(loadShim().sendPlan(syncFd, plan, plan.length, Int32Array.from(fds), Int32Array.from(targets), fds.length), 'sendmsg(warm plan)');
}

/** True when the mount table behind this /proc/PID/mountinfo fd changed since the last call or its open (POLLPRI). */
export function mountsChanged(fd: number): boolean {
  return check(loadShim().mountsChanged(fd), 'poll(mountinfo)') === 1;
}

/** waitpid() on this thread: for a process just SIGKILLed. The wait status. */
export function waitPidNow(pid: number): number {
  const status = [0];
  const rc = Number(loadShim().wait(pid, status));
  if (rc < 0) throw waitpidError(pid, rc);
  return status[0] ?? 0;
}

/**
 * tsrun_spawn on a worker thread: the clone (its new namespaces, the exec of tsrun-init) suspends that
 * thread, not Node's, which meanwhile plans the other containers of a start() of many at once.
 * Resolves or rejects as shim.spawn returns or throws.
 */
export function spawnOnWorker(plan: Buffer, cgroupFd: number): Promise<SpawnResult> {
  const init = initProgram();
  return new Promise((resolve, reject) => {
    const out: Record<string, unknown> = {};
    // koffi binds every function with .async; the fakes of the tests never reach here (warm off).
    (loadShim().spawn as unknown as KoffiFunction).async(plan, plan.length, cgroupFd, init, spawnFlags({}), out, (err: unknown, rc: number) => {
      if (err) return reject(err);
      try { resolve(spawnOutcome(rc, out, init)); } catch (e) { reject(e); }
    });
  });
}
