// Helpers for integration tests that run real containers with the built CLI (bin/tsrun.js):
// throwaway bundles derived from the busybox sample, a non-throwing way to run tsrun, and snapshots
// of the host's mount table and process list to prove a run left nothing behind.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import type { Spec } from '../../src/oci/types.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The CLI under test; TSRUN_CLI points the tests at another build (e.g. a patched copy). */
export const TSRUN = process.env.TSRUN_CLI ?? join(REPO, 'bin/tsrun.js');
export const SAMPLE_BUNDLE = join(REPO, 'rootfs-samples/build/busybox');
export const SAMPLE_ROOTFS = join(SAMPLE_BUNDLE, 'rootfs');
export const SAMPLE_CONFIG = join(SAMPLE_BUNDLE, 'config.json');

export const isRoot = process.getuid?.() === 0;

/** Why the run tests cannot run here, or undefined when they can (root, built CLI, sample bundle). */
export function cannotRunContainers(): string | undefined {
  if (!isRoot) return 'needs root';
  const cliRoot = resolve(dirname(TSRUN), '..');
  if (!existsSync(join(cliRoot, 'dist/tsrun.js'))) return 'dist/tsrun.js missing: run `make build`';
  if (!existsSync(join(cliRoot, 'native-bindings/build/libtsrun-shim.so'))) return 'native shim missing: run `make build`';
  if (!existsSync(SAMPLE_CONFIG)) return 'sample bundle missing: run `make samples`';
  return undefined;
}

/** The sample's config.json, freshly parsed (a deep copy every call). */
export function sampleSpec(): Spec {
  return JSON.parse(readFileSync(SAMPLE_CONFIG, 'utf8')) as Spec;
}

let counter = 0;
/** A string unique to this test process and call: put it in a container's argv to find leftovers. */
export function uniqueMarker(what = 'm'): string {
  counter += 1;
  return `tsrunit-${what}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestBundle {
  /** Absolute bundle directory (config.json + rootfs). */
  dir: string;
  /** Absolute rootfs directory (a private copy of the sample's). */
  rootfs: string;
  configPath: string;
  /** The spec as written to config.json. */
  spec: Spec;
  /** Unique per bundle; `sh(...)` puts it in the container's argv. */
  marker: string;
  /** Rewrites config.json after a further change. */
  rewrite(mutate: (spec: Spec) => void): void;
  /** Removes the bundle (never crossing into a mount point). Idempotent. */
  remove(): void;
}

export interface BundleOptions {
  /** Changes the deep-cloned sample spec before it is written. */
  mutate?: (spec: Spec, bundle: { dir: string; rootfs: string; marker: string }) => void;
  /** Runs after the rootfs copy exists and before config.json is written (e.g. to add files). */
  prepareRootfs?: (rootfs: string) => void;
  /**
   * Drop the sample's `linux.resources` (a device list tsrun warns it does not enforce yet), so that
   * stderr holds only what the test is about. Default true.
   */
  dropResources?: boolean;
}

const liveBundles = new Set<TestBundle>();

/**
 * A throwaway bundle: a temp dir with a private `cp -a` copy of the sample rootfs (2 MB, ~50 ms) and
 * a config.json derived from the sample's. Remove it with `bundle.remove()` or `removeAllBundles()`
 * (call that from afterEach).
 */
export function makeBundle(opts: BundleOptions = {}): TestBundle {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-it-'));
  // mkdtemp makes it 0700: a container whose root maps to another host uid must be able to reach its rootfs.
  chmodSync(dir, 0o755);
  const rootfs = join(dir, 'rootfs');
  execFileSync('cp', ['-a', SAMPLE_ROOTFS, rootfs]);
  opts.prepareRootfs?.(rootfs);
  const spec = sampleSpec();
  if (opts.dropResources ?? true) {
    if (spec.linux) delete spec.linux.resources;
  }
  const marker = uniqueMarker('b');
  opts.mutate?.(spec, { dir, rootfs, marker });
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(spec, null, 2));
  const bundle: TestBundle = {
    dir, rootfs, configPath, spec, marker,
    rewrite(mutate) {
      mutate(bundle.spec);
      writeFileSync(configPath, JSON.stringify(bundle.spec, null, 2));
    },
    remove() {
      if (!liveBundles.delete(bundle)) return;
      removeTree(dir);
    },
  };
  liveBundles.add(bundle);
  return bundle;
}

export function removeAllBundles(): void {
  for (const b of [...liveBundles]) b.remove();
}

/**
 * rm -rf that never descends into another filesystem: if a bug leaked a bind mount of a host
 * directory into a bundle, deleting the bundle must not delete the host's files through it.
 */
export function removeTree(path: string): void {
  const leaked = mountPointsUnder(path);
  if (leaked.length > 0) {
    // Leaked mounts are the test's failure to report, not something to delete through.
    for (const m of leaked.sort((a, b) => b.length - a.length)) {
      try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* reported by the test */ }
    }
  }
  try {
    execFileSync('rm', ['-rf', '--one-file-system', '--', path], { stdio: 'ignore' });
  } catch { /* best effort */ }
}

/** Puts the script in `sh -c` with the marker as $0, so the shell's argv carries the marker. */
export function sh(script: string, marker: string): string[] {
  return ['sh', '-c', script, marker];
}

// ---------------------------------------------------------------------------------------------
// Running tsrun

export interface RunResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  signal: string | undefined;
  timedOut: boolean;
}

export interface RunOptions {
  /** Written to tsrun's stdin (then closed). Without it, stdin is /dev/null ('ignore'). */
  input?: string;
  /** Default 20 s. */
  timeout?: number;
  env?: Record<string, string>;
  cwd?: string;
}

/**
 * Runs `node bin/tsrun.js …args`; never throws for a non-zero exit, a signal or a timeout.
 * Other engineers rebuild dist/ in this working tree while tests run: when the bundle is missing
 * mid-rebuild, wait and retry (a bundle that stays missing still fails).
 */
export async function runTsrun(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  for (let attempt = 0; ; attempt++) {
    const r = await runTsrunOnce(args, opts);
    if (attempt < 3 && /ERR_MODULE_NOT_FOUND[\s\S]*dist\/|Cannot find module '[^']*\/dist\//.test(r.stderr)) {
      await new Promise((res) => setTimeout(res, 1_000));
      continue;
    }
    return r;
  }
}

async function runTsrunOnce(args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const r = await execa('node', [TSRUN, ...args], {
    reject: false,
    timeout: opts.timeout ?? 20_000,
    killSignal: 'SIGKILL',
    stripFinalNewline: false,
    cwd: opts.cwd ?? REPO,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    ...(opts.env ? { env: opts.env } : {}),
  });
  return {
    exitCode: r.exitCode,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    signal: r.signal ?? undefined,
    timedOut: r.timedOut,
  };
}

/** `tsrun run --bundle <dir> [extra…]`. */
export function runBundle(bundle: TestBundle, extra: readonly string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return runTsrun(['run', ...extra, '--bundle', bundle.dir], opts);
}

/**
 * Waits (up to 15 s) while dist/ is missing: other engineers rebuild it in this working tree while
 * tests run. For commands that cannot retry (a long-running `tsrun run`, tsrun under script(1)).
 */
export async function waitForBuild(): Promise<void> {
  const bundleFile = join(resolve(dirname(TSRUN), '..'), 'dist/tsrun.js');
  const end = Date.now() + 15_000;
  while (!existsSync(bundleFile) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
}

/** Starts `tsrun run` and returns the execa process (stdout/stderr piped) to interact with it. */
export function startTsrun(args: readonly string[], opts: { timeout?: number } = {}): ResultPromise<{ reject: false; stripFinalNewline: false; timeout: number; killSignal: 'SIGKILL'; cwd: string; stdin: 'ignore' }> {
  return execa('node', [TSRUN, ...args], {
    reject: false, stripFinalNewline: false, timeout: opts.timeout ?? 20_000, killSignal: 'SIGKILL', cwd: REPO, stdin: 'ignore',
  });
}

/**
 * Resolves with everything read so far once `text` appeared on the process's stdout; rejects after
 * `ms`, or as soon as the process exits without printing it (with its stderr in the message).
 */
export function waitForOutput(
  proc: { stdout: NodeJS.ReadableStream | null } & PromiseLike<{ stderr?: unknown; exitCode?: number | undefined }>,
  text: string,
  ms = 10_000,
): Promise<string> {
  const stream = proc.stdout!;
  return new Promise((resolvePromise, rejectPromise) => {
    let seen = '';
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      stream.off('data', onData);
      if (err) rejectPromise(err); else resolvePromise(seen);
    };
    const timer = setTimeout(() => {
      finish(new Error(`timed out after ${ms} ms waiting for ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`));
    }, ms);
    const onData = (chunk: Buffer | string): void => {
      seen += chunk.toString();
      if (seen.includes(text)) finish();
    };
    stream.on('data', onData);
    proc.then((r) => {
      // Let a last 'data' event arrive first.
      setTimeout(() => finish(new Error(`tsrun exited (code ${r.exitCode}) before printing ${JSON.stringify(text)}; stdout ${JSON.stringify(seen)}; stderr ${JSON.stringify(String(r.stderr ?? ''))}`)), 50);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Host state: mounts and processes

/** Decodes the octal escapes (\040 for space…) of a mountinfo field. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mount points of this process's (= the host's) mount namespace, sorted (duplicates kept). */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => unescapeMountField(l.split(' ')[4]!))
    .sort();
}

export function mountPointsUnder(path: string): string[] {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  return mountPoints().filter((m) => m === path || m.startsWith(prefix));
}

/** What changed between two snapshots of `mountPoints()`: `+/x` added, `-/y` gone. */
export function mountDiff(before: readonly string[], after: readonly string[]): string[] {
  const count = (list: readonly string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const p of list) m.set(p, (m.get(p) ?? 0) + 1);
    return m;
  };
  const b = count(before);
  const a = count(after);
  const diff: string[] = [];
  for (const [p, n] of a) for (let i = b.get(p) ?? 0; i < n; i++) diff.push(`+${p}`);
  for (const [p, n] of b) for (let i = a.get(p) ?? 0; i < n; i++) diff.push(`-${p}`);
  return diff.sort();
}

/** Pids (other than ours) whose command line contains `text`. */
export function processesMatching(text: string): { pid: number; cmdline: string }[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-a', '-f', '--', text], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return out
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => {
      const sp = l.indexOf(' ');
      return { pid: Number(l.slice(0, sp)), cmdline: l.slice(sp + 1) };
    })
    .filter((p) => p.pid !== process.pid && !p.cmdline.startsWith('pgrep '));
}

/** Whether process `pid` has a handler for signal number `signo` (SigCgt of /proc/PID/status). */
export function catchesSignal(pid: number, signo: number): boolean {
  try {
    const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null && ((BigInt(`0x${m[1]}`) >> BigInt(signo - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Polls `fn` until it returns a value that is not undefined, or throws after `ms`. */
export async function poll<T>(fn: () => T | undefined, ms = 5_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Polls `fn` until `done(value)` holds or `ms` pass, and returns the last value either way: for an
 * `expect` on a state that settles some time after a kill, an exit or a process started in the
 * background (a sample taken once may catch it half-way), which then shows what was still there.
 */
export async function settled<T>(fn: () => T | Promise<T>, done: (v: T) => boolean, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  let v = await fn();
  while (!done(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    v = await fn();
  }
  return v;
}

/** Where tsrun keeps per-container state (one directory per container, named `<id>-<suffix>`). */
export const STATE_ROOT = '/run/tsrun';

/** State directories of containers whose id starts with `prefix` (a bundle's basename by default). */
export function stateEntries(prefix: string): string[] {
  try {
    return readdirSync(STATE_ROOT).filter((e) => e.startsWith(prefix)).map((e) => join(STATE_ROOT, e));
  } catch {
    return [];
  }
}

/**
 * What a run left on the host: processes whose argv mentions one of the markers (bundle dirs,
 * container markers), state directories named after the bundles, and mount points added since `before`. Empty when clean. Gives processes a
 * short grace period (the container's last process may still be reaped by the kernel).
 */
export async function leftovers(before: readonly string[], markers: readonly string[], statePrefixes: readonly string[] = []): Promise<string[]> {
  const found = (): string[] => [
    ...markers.flatMap((m) => processesMatching(m).map((p) => `process ${p.pid}: ${p.cmdline}`)),
    ...statePrefixes.flatMap((p) => stateEntries(p).map((e) => `state ${e}`)),
    ...mountDiff(before, mountPoints()).map((d) => `mount ${d}`),
  ];
  const end = Date.now() + 2_000;
  let left = found();
  while (left.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    left = found();
  }
  return left;
}

// ---------------------------------------------------------------------------------------------
// Per-test harness

/**
 * Registers hooks for a file of container tests: snapshot the host's mount points before each test;
 * after it, fail the test if a process mentioning one of its bundles or markers is still alive or
 * the mount table changed, kill such processes, and remove the bundles.
 */
export function containerTestHooks(hooks: {
  beforeEach: (fn: () => void) => void;
  afterEach: (fn: () => Promise<void>) => void;
}): { extraMarkers: string[] } {
  let before: string[] = [];
  const state = { extraMarkers: [] as string[] };
  hooks.beforeEach(() => {
    before = mountPoints();
    state.extraMarkers.length = 0;
  });
  hooks.afterEach(async () => {
    const markers = [...[...liveBundles].flatMap((b) => [b.dir, b.marker]), ...state.extraMarkers];
    const statePrefixes = [...liveBundles].map((b) => `${basename(b.dir)}-`);
    const left = await leftovers(before, markers, statePrefixes);
    for (const e of statePrefixes.flatMap(stateEntries)) removeTree(e);
    for (const m of markers) {
      for (const p of processesMatching(m)) {
        try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    removeAllBundles();
    if (left.length > 0) throw new Error(`the run left something behind on the host:\n  ${left.join('\n  ')}`);
  });
  return state;
}

/**
 * Makes a bundle whose process is `sh -c <script> <marker>` (root writable unless the test's mutate
 * says otherwise), runs it, and returns the result with the bundle (removed by the hooks).
 */
export async function runScript(
  script: string,
  opts: BundleOptions & RunOptions & { extraArgs?: readonly string[]; readonlyRoot?: boolean } = {},
): Promise<RunResult & { bundle: TestBundle }> {
  const bundle = makeBundle({
    ...opts,
    mutate: (spec, b) => {
      spec.process!.args = sh(script, b.marker);
      spec.root!.readonly = opts.readonlyRoot ?? false;
      opts.mutate?.(spec, b);
    },
  });
  const result = await runBundle(bundle, opts.extraArgs ?? [], opts);
  return { ...result, bundle };
}
