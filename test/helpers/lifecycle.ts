// Helpers for the lifecycle integration tests (create/start/state/kill/delete/list/run -d): a private
// state root per test (`--root`), tsrun commands whose stdio are files (a container keeps the stdio
// of `create` / `run -d` open, so a pipe would never reach EOF), the cgroup v2 mount read from
// /proc/self/mountinfo, and a clean-up that removes every container a test left in its roots.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '../../src/oci/types.js';
import { TSRUN, REPO, makeBundle, poll, runTsrun, sh, waitForBuild, type RunOptions, type RunResult, type TestBundle } from './bundle.js';

/** A bundle (see makeBundle) whose process is `sh -c SCRIPT <marker>`, with a writable root. */
export function scriptBundle(script: string, mutate?: (spec: Spec, b: { dir: string; rootfs: string; marker: string }) => void, dropResources = true): TestBundle {
  return makeBundle({
    dropResources,
    mutate: (spec, b) => {
      spec.process!.args = sh(script, b.marker);
      spec.root!.readonly = false;
      mutate?.(spec, b);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// State roots and ids

const roots = new Set<string>();
const extraCgroups = new Set<string>();

/**
 * A fresh state root for `--root`, nested one level inside its own temp dir: an id such as `..`
 * that slipped through validation would then name that private dir, never /tmp itself. The parent
 * holds a canary file a test can check.
 */
export function makeRoot(): string {
  const parent = mkdtempSync(join(tmpdir(), 'tsrun-lc-'));
  writeFileSync(join(parent, 'canary'), 'still here\n');
  const root = join(parent, 'root');
  mkdirSync(root);
  roots.add(root);
  return root;
}

let idCounter = 0;
/** Ids are global on the host (the default cgroup is /tsrun/<id>): make them unique per run. */
export function uniqueId(what = 'c'): string {
  idCounter += 1;
  return `lc-${what}-${process.pid}-${idCounter}-${Math.random().toString(36).slice(2, 7)}`;
}

/** `tsrun --root ROOT …args` (stdout/stderr piped: only for commands that leave no container process holding them). */
export function tsrun(root: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runTsrun(['--root', root, ...args], opts);
}

/** `tsrun --log-format json --root ROOT …args`. */
export function tsrunJson(root: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runTsrun(['--log-format', 'json', '--root', root, ...args], opts);
}

export interface DetachedResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Wall-clock time until the tsrun process exited. */
  ms: number;
  /** Files that received tsrun's (and so the container's) stdout and stderr. */
  stdoutFile: string;
  stderrFile: string;
  /** tsrun's pid (gone by now). */
  pid: number;
  stdout(): string;
  stderr(): string;
}

let outCounter = 0;

/**
 * Runs `tsrun --root ROOT …args` with stdout and stderr going to files in `outDir` and stdin from
 * /dev/null, and resolves when the tsrun process exits (not when the files are closed: the container
 * keeps them). Used for `create` and `run -d`, whose stdio becomes the container's.
 */
export async function tsrunToFiles(root: string, args: readonly string[], outDir: string, timeoutMs = 20_000): Promise<DetachedResult> {
  // Other engineers rebuild dist/ in this working tree: wait for it, and retry a run that failed
  // only because a dist chunk was missing at that moment (as runTsrun does).
  for (let attempt = 1; ; attempt++) {
    await waitForBuild();
    const r = await tsrunToFilesOnce(root, args, outDir, timeoutMs);
    if (attempt < 3 && r.exitCode !== 0 && /ERR_MODULE_NOT_FOUND[\s\S]*dist\/|Cannot find module '[^']*\/dist\//.test(r.stderr())) {
      await new Promise((res) => setTimeout(res, 1_000));
      continue;
    }
    return r;
  }
}

function tsrunToFilesOnce(root: string, args: readonly string[], outDir: string, timeoutMs: number): Promise<DetachedResult> {
  outCounter += 1;
  const stdoutFile = join(outDir, `tsrun-${outCounter}.out`);
  const stderrFile = join(outDir, `tsrun-${outCounter}.err`);
  const out = openSync(stdoutFile, 'w');
  const err = openSync(stderrFile, 'w');
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('node', [TSRUN, '--root', root, ...args], { cwd: REPO, stdio: ['ignore', out, err] });
    closeSync(out);
    closeSync(err);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tsrun ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr ${JSON.stringify(readFileSync(stderrFile, 'utf8'))}`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({
        exitCode: code, signal, ms: Date.now() - t0, stdoutFile, stderrFile, pid: child.pid ?? -1,
        stdout: () => readFileSync(stdoutFile, 'utf8'),
        stderr: () => readFileSync(stderrFile, 'utf8'),
      });
    });
  });
}

/** Waits until `file` contains `text`; returns the whole content. */
export async function waitForFile(file: string, text: string, ms = 5_000): Promise<string> {
  try {
    return await poll(() => {
      const content = readFileSync(file, 'utf8');
      return content.includes(text) ? content : undefined;
    }, ms, `${JSON.stringify(text)} in ${file}`);
  } catch (e) {
    throw new Error(`${(e as Error).message}; it holds ${JSON.stringify(readFileSync(file, 'utf8'))}`);
  }
}

// ---------------------------------------------------------------------------------------------
// State, processes, cgroups

export interface StateJson {
  ociVersion: string;
  id: string;
  status: string;
  pid: number;
  bundle: string;
  rootfs?: string;
  created?: string;
  owner?: string;
  annotations?: Record<string, string>;
}

/** `tsrun state ID`, parsed; throws with tsrun's stderr when it fails. */
export async function stateOf(root: string, id: string): Promise<StateJson> {
  const r = await tsrun(root, ['state', id]);
  if (r.exitCode !== 0) throw new Error(`tsrun state ${id} exited ${r.exitCode}: ${r.stderr}`);
  return JSON.parse(r.stdout) as StateJson;
}

/** Polls `tsrun state` until the status is `status`. */
export async function waitForStatus(root: string, id: string, status: string, ms = 5_000): Promise<StateJson> {
  const end = Date.now() + ms;
  let last: StateJson | undefined;
  for (;;) {
    last = await stateOf(root, id);
    if (last.status === status) return last;
    if (Date.now() > end) throw new Error(`container ${id} still ${last.status} after ${ms} ms (wanted ${status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * What /proc says about `pid`: 'absent', 'zombie' (dead, waiting to be reaped: a container init whose
 * parent `tsrun create` is gone is reaped by pid 1, which on this host does that only now and then),
 * or 'alive (<state letter>)'.
 */
export function procState(pid: number): string {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 'absent';
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state === 'Z' || state === 'X' ? 'zombie' : `alive (${state})`;
}

export const isDead = (pid: number): boolean => procState(pid) === 'absent' || procState(pid) === 'zombie';

/** Waits until `pid` is dead (absent or a zombie); returns its final procState. */
export async function waitForDeath(pid: number, ms = 5_000): Promise<string> {
  const end = Date.now() + ms;
  while (!isDead(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return procState(pid);
}

/** The `0::` line of /proc/PID/cgroup (the v2 cgroup path), or undefined. */
export function v2CgroupOf(pid: number): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    return line?.slice(3);
  } catch {
    return undefined;
  }
}

/** Mount point of the cgroup v2 hierarchy, read from /proc/self/mountinfo; undefined when none. */
export function cgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    if (line.slice(sep + 3).split(' ')[0] === 'cgroup2') {
      return line.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    }
  }
  return undefined;
}

/** Controllers of the v2 root (cgroup.controllers). */
export function cgroup2Controllers(): string[] {
  const mount = cgroup2Mount();
  if (!mount) return [];
  try {
    return readFileSync(join(mount, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** The default cgroup directory of container `id` (<v2 mount>/tsrun/<id>). */
export function defaultCgroupDir(id: string): string {
  const mount = cgroup2Mount();
  if (!mount) throw new Error('no cgroup v2 mount');
  return join(mount, 'tsrun', id);
}

/** Registers a cgroup directory (an absolute linux.cgroupsPath) for removal after the test. */
export function trackCgroup(dir: string): void {
  extraCgroups.add(dir);
}

/** Entries of the state root (a container = a directory). */
export function rootEntries(root: string): string[] {
  try {
    return readdirSync(root);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Clean-up

function killCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
  } catch {
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
      }
    } catch { /* gone */ }
  }
}

async function removeCgroupDir(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  killCgroup(dir);
  const end = Date.now() + 3_000;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (Date.now() > end) return; // reported by the test that made it
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * Removes everything the test's roots still hold: `tsrun delete --force` for each container, then
 * (if tsrun failed to) a SIGKILL of the recorded init and of the cgroup's processes and an rmdir of
 * the cgroup; finally the root itself. Call from afterEach (after the test's own assertions).
 */
export async function cleanupLifecycle(): Promise<void> {
  for (const root of [...roots]) {
    roots.delete(root);
    for (const id of rootEntries(root)) {
      let record: { pid?: number; cgroupDir?: string } = {};
      try {
        record = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as typeof record;
      } catch { /* no state */ }
      // Kill first: a cgroup that still holds processes after its init died must not make the
      // clean-up wait on tsrun (that case is a test of its own).
      if (record.cgroupDir) killCgroup(record.cgroupDir);
      await tsrun(root, ['delete', '--force', id], { timeout: 15_000 }).catch(() => undefined);
      if (record.pid && record.pid > 1 && !isDead(record.pid)) {
        try { process.kill(record.pid, 'SIGKILL'); } catch { /* gone */ }
      }
      if (record.cgroupDir) await removeCgroupDir(record.cgroupDir);
      const dflt = cgroup2Mount() ? defaultCgroupDir(id) : undefined;
      if (dflt && id.startsWith('lc-')) await removeCgroupDir(dflt);
    }
    rmSync(join(root, '..'), { recursive: true, force: true });
  }
  for (const dir of [...extraCgroups].sort((a, b) => b.length - a.length)) {
    extraCgroups.delete(dir);
    await removeCgroupDir(dir);
  }
}

/** Removes the default cgroups of ids a test used without a root entry (e.g. after a failed create). */
export async function removeDefaultCgroups(ids: readonly string[]): Promise<void> {
  if (!cgroup2Mount()) return;
  for (const id of ids) await removeCgroupDir(defaultCgroupDir(id));
}

/** The non-empty lines of `--log-format json` stderr, each parsed (throws if one is not JSON). */
export function parseJsonLines(stderr: string): unknown[] {
  return stderr.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
}

/** `tsrun --root ROOT create [extra…] --bundle B ID`, stdio to files in the bundle dir. */
export function createIn(root: string, bundle: TestBundle, id: string, extra: readonly string[] = []): Promise<DetachedResult> {
  return tsrunToFiles(root, ['create', ...extra, '--bundle', bundle.dir, id], bundle.dir);
}

/** `tsrun --root ROOT run -d [extra…] --bundle B ID`, stdio to files in the bundle dir. */
export function runDetachedIn(root: string, bundle: TestBundle, id: string, extra: readonly string[] = []): Promise<DetachedResult> {
  return tsrunToFiles(root, ['run', '-d', ...extra, '--bundle', bundle.dir, id], bundle.dir);
}

/** Creates and asserts success (with tsrun's stderr in the error). */
export async function mustCreate(root: string, bundle: TestBundle, id: string, extra: readonly string[] = []): Promise<DetachedResult> {
  const r = await createIn(root, bundle, id, extra);
  if (r.exitCode !== 0) throw new Error(`tsrun create ${id} exited ${r.exitCode ?? r.signal}: ${r.stderr()}`);
  return r;
}

/** Creates and starts; returns the init's pid. */
export async function mustCreateAndStart(root: string, bundle: TestBundle, id: string): Promise<{ pid: number; created: DetachedResult }> {
  const created = await mustCreate(root, bundle, id);
  const s = await tsrun(root, ['start', id]);
  if (s.exitCode !== 0) throw new Error(`tsrun start ${id} exited ${s.exitCode}: ${s.stderr}`);
  const st = await stateOf(root, id);
  return { pid: st.pid, created };
}
