// Issue 12, item 7: at every instant of create/run, either nothing of the container exists yet or
// `delete --force ID` removes all of it. `run` and `create` (of a bundle and of an image) are
// SIGKILLed at many points of their life; after each, `delete --force` must leave no state dir, no
// cgroup, no process, no mount, no image-store reference or kept upper layer. A create killed
// half-way never looks "created" (its init was not handed over: device rules, pid file), and one
// in progress shows as "creating". A broken stderr (EPIPE, `tsrun run --trace … 2>&1 | head -3`)
// must not stop tsrun from cleaning up.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, mountDiff, mountPoints, processesMatching, REPO, TSRUN, waitForBuild } from '../../helpers/bundle.js';
import {
  cgroup2Mount, cleanupLifecycle, defaultCgroupDir, makeRoot, mustCreate, scriptBundle, stateOf, tsrun, uniqueId,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const hasCgroup2 = cgroup2Mount() !== undefined;
const IMAGE = join(REPO, 'rootfs-samples/build/busybox-layers');

let work: string;
beforeAll(() => { work = mkdtempSync(join(tmpdir(), 'tsrun-killpoints-')); });
afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

interface Outcome { killed: boolean; code: number | null; ms: number; stderr: string }

/** Runs `node bin/tsrun.js …args` and SIGKILLs it `atMs` after the spawn (unless it exited first). */
async function killAt(args: readonly string[], atMs: number): Promise<Outcome> {
  await waitForBuild();
  const errFile = join(work, `err-${Math.random().toString(36).slice(2)}`);
  const errFd = openSync(errFile, 'w');
  const t0 = performance.now();
  const child = spawn('node', [TSRUN, ...args], { cwd: REPO, stdio: ['ignore', 'ignore', errFd] });
  closeSync(errFd);
  const timer = setTimeout(() => child.kill('SIGKILL'), atMs);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const stderr = readFileSync(errFile, 'utf8');
  rmSync(errFile);
  return { killed: signal === 'SIGKILL', code, ms: performance.now() - t0, stderr };
}

/** Median wall time of a complete command (to place the kill points over its whole life). */
async function measure(args: () => readonly string[], after: (a: readonly string[]) => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const a = args();
    const r = await killAt(a, 60_000);
    if (r.code !== 0) throw new Error(`tsrun ${a.join(' ')} failed: ${r.stderr}`);
    times.push(r.ms);
    await after(a);
  }
  return times.sort((x, y) => x - y)[1]!;
}

/** Everything of container `id` that is still on the host (empty when clean). */
function remains(root: string, id: string, marker: string, store?: string): string[] {
  const out: string[] = [];
  if (existsSync(join(root, id))) out.push(`state dir ${join(root, id)}: ${readdirSync(join(root, id)).join(' ')}`);
  if (hasCgroup2 && existsSync(defaultCgroupDir(id))) out.push(`cgroup ${defaultCgroupDir(id)}`);
  for (const p of processesMatching(marker)) out.push(`process ${p.pid} ${p.cmdline}`);
  if (store) {
    const stateDir = join(root, id);
    for (const n of safeList(join(store, 'containers'))) {
      try {
        if ((JSON.parse(readFileSync(join(store, 'containers', n), 'utf8')) as { stateDir?: string }).stateDir === stateDir) out.push(`image ref ${n}`);
      } catch { /* a temp file */ }
    }
    for (const n of safeList(join(store, 'uppers'))) if (n.startsWith(`${id}-`)) out.push(`kept upper ${n}`);
  }
  return out;
}

function safeList(dir: string): string[] {
  try { return readdirSync(dir); } catch { return []; }
}

interface SweepResult { points: number; killed: number; withCgroup: number; withState: number }

/** The text of a file, or undefined. */
function readOr(file: string): string | undefined {
  try { return readFileSync(file, 'utf8'); } catch { return undefined; }
}

/**
 * Kills `args(id)` at `points` moments spread over [0, spanMs], then checks that `delete --force`
 * removes everything. With `pidFile` (create): a killed create must not be startable ("created")
 * unless it had finished — its pid file written — before the kill landed.
 */
async function sweep(root: string, marker: string, args: (id: string) => string[], spanMs: number, opts: { store?: string; points?: number; pidFile?: (id: string) => string } = {}): Promise<SweepResult> {
  const points = opts.points ?? 40;
  const res: SweepResult = { points, killed: 0, withCgroup: 0, withState: 0 };
  const before = mountPoints();
  for (let i = 0; i < points; i++) {
    const at = (spanMs * i) / (points - 1);
    const where = `${at.toFixed(1)} ms`;
    const id = uniqueId(`kp${i}`);
    const r = await killAt(args(id), at);
    let finished = !r.killed;
    if (!r.killed) {
      // It finished before the kill: a normal result.
      expect(`${where}: exit ${r.code} ${r.stderr}`).toBe(`${where}: exit 0 `);
    } else {
      res.killed += 1;
      if (hasCgroup2 && existsSync(defaultCgroupDir(id))) res.withCgroup += 1;
      if (existsSync(join(root, id, 'state.json'))) res.withState += 1;
      if (opts.pidFile && existsSync(join(root, id, 'state.json'))) {
        const st = await tsrun(root, ['state', id]);
        const status = st.exitCode === 0 ? (JSON.parse(st.stdout) as { status: string; pid: number }) : undefined;
        finished = status !== undefined && readOr(opts.pidFile(id)) === String(status.pid);
        // Half-made: "stopped", never "created" (start would run an init tsrun never finished).
        if (status && !finished) expect(`${where}: ${status.status}`).toBe(`${where}: stopped`);
      }
    }
    const del = await tsrun(root, ['delete', '--force', id]);
    // A finished create --keep-upper keeps its upper layer at delete, and says so.
    const kept = finished && opts.store ? /^tsrun: the upper layer of container \S+ is kept in (\S+)\n$/.exec(del.stderr) : null;
    if (kept) rmSync(join(kept[1]!, '..'), { recursive: true });
    expect(`${where}: delete --force exit ${del.exitCode} ${kept ? '' : del.stderr}`).toBe(`${where}: delete --force exit 0 `);
    // The container's last process may take a moment to be reaped.
    let left = remains(root, id, marker, opts.store);
    for (let t = 0; t < 20 && left.length > 0; t++) {
      await new Promise((res2) => setTimeout(res2, 50));
      left = remains(root, id, marker, opts.store);
    }
    expect({ where, killed: r.killed, left }).toEqual({ where, killed: r.killed, left: [] });
    // Only mounts of this test's paths: other tests on the host may mount meanwhile.
    const mine = (m: string): boolean => [root, work, ...(opts.store ? [opts.store] : [])].some((p) => m.includes(p));
    expect({ where, mounts: mountDiff(before, mountPoints()).filter(mine) }).toEqual({ where, mounts: [] });
    // A stopped leftover would also make `delete` (no --force) and `state` fail from now on.
    expect((await tsrun(root, ['state', id])).stderr).toMatch(/does not exist/);
  }
  return res;
}

describe.skipIf(skip !== undefined)(`security: SIGKILL at every point of create/run${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  const totals: SweepResult[] = [];
  afterAll(() => {
    // The sweeps must have hit the window the issue is about (cgroup made, tsrun killed), or they prove nothing.
    if (hasCgroup2 && totals.length === 4) expect(totals.reduce((n, t) => n + t.withCgroup, 0)).toBeGreaterThan(0);
  });

  it('run of a bundle, killed at 40 points over its life: delete --force leaves nothing', async () => {
    const root = makeRoot();
    const bundle = scriptBundle('echo "ran $0"');
    const run = (id: string): string[] => ['--root', root, 'run', '--bundle', bundle.dir, id];
    const span = await measure(() => run(uniqueId('m')), async () => {});
    const r = await sweep(root, bundle.marker, run, span * 1.2);
    totals.push(r);
    expect(r.killed).toBeGreaterThanOrEqual(10); // most points land before the end; the load of the host moves it
  }, 240_000);

  it('create of a bundle, killed at 40 points: delete --force leaves nothing, a killed create is never "created"', async () => {
    const root = makeRoot();
    const bundle = scriptBundle('echo "ran $0"; sleep 100');
    const pidFile = (id: string): string => join(work, `${id}.pid`);
    const create = (id: string): string[] => ['--root', root, 'create', '--pid-file', pidFile(id), '--bundle', bundle.dir, id];
    const span = await measure(() => create(uniqueId('m')), async (a) => { await tsrun(root, ['delete', '--force', a[a.length - 1]!]); });
    const r = await sweep(root, bundle.marker, create, span * 1.2, { pidFile });
    totals.push(r);
    expect(r.killed).toBeGreaterThanOrEqual(10); // most points land before the end; the load of the host moves it
  }, 240_000);

  it('run --image (overlay, image-store reference), killed at 40 points: delete --force leaves nothing', async () => {
    const root = makeRoot();
    const store = join(work, 'store-run');
    const marker = `kp-img-${process.pid}`;
    const run = (id: string): string[] => ['--root', root, 'run', '--store', store, '--image', IMAGE, id, '--', 'sh', '-c', 'true', marker];
    await killAt(run(uniqueId('warm')), 60_000); // the import, once
    const span = await measure(() => run(uniqueId('m')), async () => {});
    const r = await sweep(root, marker, run, span * 1.2, { store });
    totals.push(r);
    expect(r.killed).toBeGreaterThanOrEqual(10); // most points land before the end; the load of the host moves it
  }, 240_000);

  it('create --image --keep-upper, killed at 40 points: delete --force leaves nothing, not even the kept upper', async () => {
    const root = makeRoot();
    const store = join(work, 'store-create');
    const marker = `kp-imgc-${process.pid}`;
    const pidFile = (id: string): string => join(work, `${id}.pid`);
    const create = (id: string): string[] => ['--root', root, 'create', '--pid-file', pidFile(id), '--keep-upper', '--store', store, '--image', IMAGE, id];
    await killAt(['--root', root, 'run', '--store', store, '--image', IMAGE, uniqueId('warm'), '--', 'true'], 60_000);
    const span = await measure(() => create(uniqueId('m')), async (a) => {
      await tsrun(root, ['delete', '--force', a[a.length - 1]!]);
      rmSync(join(store, 'uppers'), { recursive: true, force: true });
    });
    const r = await sweep(root, marker, (id) => create(id), span * 1.2, { store, pidFile });
    totals.push(r);
    expect(r.killed).toBeGreaterThanOrEqual(10); // most points land before the end; the load of the host moves it
  }, 240_000);

  it('delete of an id never created: "does not exist" without --force; --force exits 0 and makes nothing', async () => {
    const root = makeRoot();
    const id = uniqueId('never');
    const d = await tsrun(root, ['delete', id]);
    expect(d.exitCode).not.toBe(0);
    expect(d.stderr).toBe(`tsrun: container ${id} does not exist\n`);
    const f = await tsrun(root, ['delete', '--force', id]);
    expect([f.exitCode, f.stderr, f.stdout]).toEqual([0, '', '']);
    expect(readdirSync(root)).toEqual([]);
    expect(hasCgroup2 && existsSync(defaultCgroupDir(id))).toBe(false);
    expect((await tsrun(root, ['state', id])).stderr).toBe(`tsrun: container ${id} does not exist\n`);
  });

  it('while create runs (a createRuntime hook waits): state and list say "creating"; start, kill and delete refuse; delete --force ends it all', async () => {
    const root = makeRoot();
    const id = uniqueId('creating');
    const ready = join(work, `${id}.ready`);
    const nap = `29.${process.pid}${Math.floor(Math.random() * 1000)}`;
    const bundle = scriptBundle('echo "ran $0"; sleep 100', (spec) => {
      spec.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${ready}; exec sleep ${nap}`] }] };
    });
    const errFile = join(bundle.dir, 'create.err');
    const errFd = openSync(errFile, 'w');
    const create = spawn('node', [TSRUN, '--root', root, 'create', '--bundle', bundle.dir, id], { cwd: REPO, stdio: ['ignore', 'ignore', errFd] });
    closeSync(errFd);
    const exited = new Promise<[number | null, string | null]>((resolve) => create.on('exit', (c, s) => resolve([c, s])));
    for (let t = 0; t < 500 && !existsSync(ready); t++) await new Promise((r) => setTimeout(r, 20));
    expect(`${existsSync(ready)} ${readFileSync(errFile, 'utf8')}`).toBe('true ');
    const st = await stateOf(root, id);
    expect(st.status).toBe('creating');
    expect(st.pid).toBeGreaterThan(0); // the init exists (hooks run once it does)
    const list = await tsrun(root, ['list', '--format', 'json']);
    expect((JSON.parse(list.stdout) as { id: string; status: string }[]).find((c) => c.id === id)?.status).toBe('creating');
    const start = await tsrun(root, ['start', id]);
    expect(start.exitCode).not.toBe(0);
    expect(start.stderr).toMatch(/creating/);
    const kill = await tsrun(root, ['kill', id, 'KILL']);
    expect(kill.exitCode).not.toBe(0);
    expect(kill.stderr).toMatch(/creating/);
    const del = await tsrun(root, ['delete', id]);
    expect(del.exitCode).not.toBe(0);
    expect(del.stderr).toMatch(/creating/);
    const force = await tsrun(root, ['delete', '--force', id]);
    expect([force.exitCode, force.stderr]).toEqual([0, '']);
    const [code, signal] = await exited;
    expect(code === 0).toBe(false); // the create did not complete
    expect(signal ?? code).toBeTruthy();
    expect(remains(root, id, bundle.marker)).toEqual([]);
    // The hook, a child of the killed create, is not tsrun's to end; the test ends it.
    for (const p of processesMatching(`sleep ${nap}`)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
  }, 30_000);

  // The last instants of create (init waiting on the exec fifo, pid file and final record not yet
  // written) are too short to hit reliably with a timer: the record such a kill leaves is made
  // here from a real created container and the creator of a process that has died.
  it('a killed create whose init reached its start gate: "stopped", start refuses, plain delete kills the init and removes it all', async () => {
    const root = makeRoot();
    const id = uniqueId('abandoned');
    const bundle = scriptBundle('echo "ran $0"; sleep 100');
    await mustCreate(root, bundle, id);
    const initPid = (await stateOf(root, id)).pid;
    const dead = spawn('sleep', ['100']);
    const deadStart = readFileSync(`/proc/${dead.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
    dead.kill('SIGKILL');
    await new Promise((r) => dead.on('exit', r));
    const file = join(root, id, 'state.json');
    const rec = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...rec, creator: { pid: dead.pid, startTime: deadStart } }));
    const st = await stateOf(root, id);
    expect(st.status).toBe('stopped');
    const start = await tsrun(root, ['start', id]);
    expect(start.exitCode).not.toBe(0);
    expect(readFileSync(`/proc/${initPid}/stat`, 'utf8')).not.toMatch(/\) Z /); // still waiting, never started
    const del = await tsrun(root, ['delete', id]);
    expect([del.exitCode, del.stderr]).toEqual([0, '']);
    expect(remains(root, id, bundle.marker)).toEqual([]);
    expect(existsSync(`/proc/${initPid}`) && !/\) Z /.test(readFileSync(`/proc/${initPid}/stat`, 'utf8'))).toBe(false);
  });
});

describe.skipIf(skip !== undefined)(`security: a broken stderr does not stop the clean-up${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  /** Runs tsrun with stderr a pipe whose reader goes away after `lines` lines (as `2>&1 | head -N`). */
  async function withBrokenStderr(args: readonly string[], lines: number): Promise<{ code: number | null; signal: string | null }> {
    await waitForBuild();
    const child = spawn('node', [TSRUN, ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let seen = '';
    child.stderr!.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen.split('\n').length > lines) child.stderr!.destroy();
    });
    if (lines === 0) child.stderr!.destroy();
    return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  for (const lines of [0, 3, 20]) {
    it(`run --trace with stderr closed after ${lines} lines: the run ends and nothing is left`, async () => {
      const root = makeRoot();
      const id = uniqueId(`epipe${lines}`);
      const bundle = scriptBundle('echo "ran $0"');
      const r = await withBrokenStderr(['--root', root, 'run', '--trace', '--bundle', bundle.dir, id], lines);
      expect(r.signal).toBe(null);
      expect(r.code).toBe(0);
      expect(remains(root, id, bundle.marker)).toEqual([]);
    });
  }

  it('create --trace with stderr closed after 3 lines: created (or failed clean); delete --force leaves nothing', async () => {
    const root = makeRoot();
    const id = uniqueId('epipe-create');
    const bundle = scriptBundle('sleep 100');
    const r = await withBrokenStderr(['--root', root, 'create', '--trace', '--bundle', bundle.dir, id], 3);
    expect(r.code).toBe(0);
    expect((await stateOf(root, id)).status).toBe('created');
    const del = await tsrun(root, ['delete', '--force', id]);
    expect([del.exitCode, del.stderr]).toEqual([0, '']);
    expect(remains(root, id, bundle.marker)).toEqual([]);
  });
});
