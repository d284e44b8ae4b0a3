// The warm init: the library's next container process, made ahead of use. Cloning a container's
// process (new namespaces, the exec of tsrun-init) is the largest single cost of a run() here, and it
// depends on nothing but the namespaces and the cgroup. So after a run() or start() of a container,
// the library clones the next one of the same kind on a worker thread (shim.c, tsrun_spawn_warm):
// in the namespaces that container's clone made, born in the cgroup the next container of that
// source will have (named by the id it will get), waiting for its plan. The next container of the
// same source takes it and sends the plan (sendPlan) instead of cloning; its set-up then runs as
// any other's. One or two per process (MAX_INITS), of one source; none for the CLI (a command
// starts one container and ends).
//
// What the clone captured is what a clone at use would have captured (tsrun's credentials, limits,
// cwd and scheduling do not change under the library) except the mount table: a copy taken earlier
// misses what was mounted since. So each warm init watches its maker's mount table (mountinfo's
// POLLPRI) and is not used when it changed. If it is never used, the init removes its own cgroup when
// tsrun closes its socket or dies, or the thread that made it ends (a terminated worker thread closes
// nothing): shim.c, warm_leave. So a killed test process leaves nothing.
import { closeSync, existsSync, rmdirSync } from 'node:fs';
import { posix } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import * as shim from '../native/shim.js';
import * as warmShim from '../native/warm.js';
import { spawnSettings } from '../native/spawn-settings.js';
import { makeChain, pathChain, removeDirs } from '../cgroups/tree.js';
import { TsrunError } from '../errors.js';

export interface WarmInit {
  /** The container id it was made for: its cgroup is named by it. */
  readonly id: string;
  /** What the library's containers of this kind share (their source): the next one takes it. */
  readonly label: string;
  readonly pid: number;
  readonly syncFd: number;
  /** The CLONE_NEW* flags its clone had: a plan with others cannot use it. */
  readonly cloneFlags: number;
  readonly cgroupDir: string;
  readonly initCopy: shim.SpawnResult['initCopy'];
  /** /proc/self/mountinfo, opened before the clone (its POLLPRI says the mount table changed). */
  readonly mountsFd: number;
  /** The encoded plan of the steps it ran ahead (plan/ahead.ts), if any: its container's must be the same. */
  readonly ahead?: Buffer;
}

/** How to make the next warm inits: from the container just made of this source. */
export interface WarmRecipe {
  label: string;
  cloneFlags: number;
  /** A new id for a container of this source: each init is made for the one it will get. */
  newId: () => string;
  /** The cgroup of the container with that id (its parent exists or is made), under the cgroup v2 mount. */
  cgroupDirOf: (id: string) => string;
  mountPoint: string;
  /**
   * The steps it runs once made, while no container has taken it (encoded; plan/ahead.ts): the next
   * container's share of the set-up that needs neither its id nor its fds.
   */
  ahead?: Buffer;
}

interface Slot {
  label: string;
  id: string;
  ready: Promise<WarmInit | undefined>;
  /** The init once its clone is done, for the exit hook (which cannot wait for `ready`). */
  made?: WarmInit;
  /** Its clone (and its steps ahead) are over: a container that takes it waits for nothing. */
  settled: boolean;
}

/** The inits made and being made, oldest first, all of one source (the last one run). */
let slots: Slot[] = [];

/**
 * How many inits are kept for the source: one, and two once a container took an init that was not
 * settled yet (containers back to back: each would wait for the clone made after the one before,
 * and get the whole plan at use). With two, each init has a whole container's time to be cloned and
 * run ahead (measured: see the README's benchmark); an idle spell (IDLE_MS) goes back to one.
 */
const MAX_INITS = 2;
let wanted = 1;

/** Unused warm inits are given up after this long: an idle one holds namespaces and a cgroup. */
const IDLE_MS = 30_000;
let idleTimer: NodeJS.Timeout | undefined;

/**
 * The warm init made for the next container of `label`, if one is (being) made: its id, and the init
 * once its clone is done (undefined if it failed); the oldest one. Its slot goes: the caller uses it
 * or gives it up (discardWarm).
 */
export function takeWarm(label: string): { id: string; ready: Promise<WarmInit | undefined> } | undefined {
  if (slots[0]?.label !== label) return undefined;
  const taken = slots.shift()!;
  if (!taken.settled) wanted = MAX_INITS;
  if (!slots.length && idleTimer) clearTimeout(idleTimer);
  return { id: taken.id, ready: taken.ready };
}

/**
 * True when the init can run this container: same namespaces to make, same cgroup, the same steps
 * run ahead (encoded) if it ran any, and no mount since its clone (checked last: the check consumes
 * the mount table's event).
 */
export function warmFits(w: WarmInit, cloneFlags: number, cgroupDir: string | undefined, ahead: Buffer | undefined): boolean {
  const sameAhead = w.ahead === undefined || (ahead !== undefined && w.ahead.equals(ahead));
  return w.cloneFlags === cloneFlags && w.cgroupDir === cgroupDir && sameAhead && !warmShim.mountsChanged(w.mountsFd);
}

/** Starts making the next warm inits of this source, up to the number kept; errors only leave one unmade. */
export function prepareWarm(recipe: WarmRecipe): void {
  if (!spawnSettings().warm) return;
  if (slots.length && slots[0]!.label !== recipe.label) giveUpAll();
  while (slots.length < wanted) slots.push(makeSlot(recipe));
  watchExit();
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(giveUpAll, IDLE_MS);
  idleTimer.unref();
}

function giveUpAll(): void {
  for (const s of slots) giveUpTaken(s.ready);
  slots = [];
  wanted = 1;
}

function makeSlot(recipe: WarmRecipe): Slot {
  // A worker thread may be terminated (worker.terminate(), as vitest's threads pool ends its
  // workers) while this runs on after its last run(): a koffi call that makes JavaScript values then
  // (declaring a function, starting an async call) throws into an isolate that is stopping, and
  // koffi's addon aborts the whole process for it (napi_throw: a fatal error, seen once in 6 runs of
  // make test). So on a worker thread the clone's completion is the init's last native call: it runs
  // nothing ahead, and its container sends the whole plan as a taken init does.
  const ahead = isMainThread ? recipe.ahead : undefined;
  const id = recipe.newId();
  const target = { label: recipe.label, cloneFlags: recipe.cloneFlags, id, cgroupDir: recipe.cgroupDirOf(id), mountPoint: recipe.mountPoint };
  const s: Slot = {
    label: recipe.label, id, settled: false,
    ready: cloneWarm(target)
      .then((w) => (s.made = w))
      .then((w) => (ahead ? runAheadIfIdle(s, w, ahead) : w), () => undefined)
      .finally(() => { s.settled = true; }),
  };
  return s;
}

/**
 * When this thread ends, an unused init must know: the fds are the process's, so a worker thread
 * that ends (vitest's threads pool) would leave its init waiting, with its cgroup, until the whole
 * process exits. Its socket is closed here; the init sees EOF and removes itself (warm_leave).
 */
let exitHooked = false;
function watchExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    const made = slots.map((s) => s.made);
    slots = [];
    for (const w of made) {
      if (!w) continue;
      shim.closeFd(w.syncFd);
      closeSync(w.mountsFd);
    }
  });
}

/** One init to make: for the container `id`, in its cgroup. */
interface WarmTarget {
  label: string;
  id: string;
  cloneFlags: number;
  cgroupDir: string;
  mountPoint: string;
}

async function cloneWarm(r: WarmTarget): Promise<WarmInit | undefined> {
  // Its parents, if the last container's removal took them (the cgroup itself is made with the clone,
  // on the worker thread: EEXIST there means someone else's cgroup, not ours to fill). That removal
  // runs on this thread while the worker makes the cgroup, and takes the parent it empties: a mkdir
  // that finds no parent makes the parents again and tries once more (a few times at most).
  const parent = posix.dirname(r.cgroupDir);
  for (let attempt = 1; ; attempt++) {
    const parents = existsSync(parent) ? [] : makeChain(pathChain(r.mountPoint, parent));
    try {
      const spawned = await warmShim.spawnWarm({ cloneFlags: r.cloneFlags, cgroupDir: r.cgroupDir, rootProcs: posix.join(r.mountPoint, 'cgroup.procs') });
      return { id: r.id, label: r.label, pid: spawned.pid, syncFd: spawned.syncFd, cloneFlags: r.cloneFlags, cgroupDir: r.cgroupDir, initCopy: spawned.initCopy, mountsFd: spawned.mountsFd };
    } catch (err) {
      removeDirs(parents);
      if (attempt < PARENT_ATTEMPTS && parentWentAway(err)) continue;
      throw err;
    }
  }
}

const PARENT_ATTEMPTS = 4;

/** The warm spawn's mkdir of the cgroup found no parent (tsrun_spawn_warm's "mkdir(cgroup)": ENOENT). */
function parentWentAway(err: unknown): boolean {
  return err instanceof TsrunError && err.syscall === 'mkdir(cgroup)' && err.errno === 'ENOENT';
}

/**
 * While no container has taken the init (a slot still holds it), it runs the share of the set-up
 * that every container of the source has (plan/ahead.ts), so that the next one does not wait for
 * it. Taken already (containers back to back): it gets the whole plan at use, as it would without
 * this; running ahead then only puts this work and the last container's removal in each other's way
 * (measured: +0.4 ms a run() back to back, -0.6 to -0.9 ms with 5 ms between runs). A failed step
 * makes it useless: it is discarded, and the next container is cloned afresh (which reports it).
 */
async function runAheadIfIdle(s: Slot, w: WarmInit | undefined, ahead: Buffer): Promise<WarmInit | undefined> {
  if (!w || !slots.includes(s)) return w;
  try {
    await warmShim.runAhead(w.syncFd, ahead);
  } catch {
    s.made = undefined;
    discardWarm(w);
    return undefined;
  }
  s.made = { ...w, ahead };
  return s.made;
}

/** A taken warm init that its container will not use after all (it failed before its create began). */
export function giveUpTaken(ready: Promise<WarmInit | undefined>): void {
  void ready.then((w) => { if (w) discardWarm(w); });
}

/**
 * An init that will not be used: killed, reaped and its cgroup removed before this returns, so that
 * a container may be made with its id at once.
 */
export function discardWarm(w: WarmInit): void {
  try { process.kill(w.pid, 'SIGKILL'); } catch { /* gone */ }
  try { warmShim.waitPidNow(w.pid); } catch { /* reaped already */ }
  shim.closeFd(w.syncFd);
  closeSync(w.mountsFd);
  try { rmdirSync(w.cgroupDir); } catch { /* gone already */ }
}

/** Closes what tsrun holds of an init whose plan was sent (its sync socket now belongs to the container process). */
export function releaseWarmWatch(w: WarmInit): void {
  closeSync(w.mountsFd);
}
