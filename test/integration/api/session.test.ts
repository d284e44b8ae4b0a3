// Sessions and their reaper (src/api/session.ts, tsrun-init reap): a test process that is kill -9'd
// with live containers leaves nothing (state dirs, cgroups, mounts, processes), and sweep() removes
// a dead session's containers while keeping a live one's and those of no session.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cannotRunContainers, makeBundle, removeAllBundles, REPO, sh, type TestBundle } from '../../helpers/bundle.js';
import { deleteContainer } from '../../../src/container/delete.js';
import { session } from '../../../src/api/session.js';
import { sweep } from '../../../src/api/sweep.js';

const skip = cannotRunContainers();
const scratch = mkdtempSync(join(tmpdir(), 'tsrun-session-'));
const sessionsDir = join(scratch, 'sessions');
const childScript = join(scratch, 'child.mjs');
const env = { ...process.env, TSRUN_PACKAGE_ROOT: REPO };

interface ChildInfo { id: string; root: string; reaperPid: number | null; ids: string[] }
interface Made { pid: number; cgroupDir?: string; rootfs: string }

beforeAll(async () => {
  await build({
    entryPoints: [join(REPO, 'test/integration/api/session-child.ts')],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: childScript,
    external: ['koffi'], logLevel: 'silent',
    // The bundle lives outside the repo: require() of koffi must resolve from the repo's node_modules.
    banner: { js: `import { createRequire as __cr } from 'node:module'; const require = __cr(${JSON.stringify(join(REPO, 'package.json'))});` },
  });
});
afterEach(removeAllBundles);
afterAll(async () => {
  // Whatever a failed test left: its containers first, never rm -rf under a live one.
  for (const root of [join(scratch, 'shared'), join(scratch, 'sweep-shared'), ...readdirSafe(sessionsDir).map((d) => join(sessionsDir, d))]) {
    for (const id of readdirSafe(root)) await deleteContainer(root, id, true).catch(() => {});
  }
  rmSync(scratch, { recursive: true, force: true });
});

function readdirSafe(dir: string): string[] {
  try { return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name); } catch { return []; }
}

/** `tsrun --root ROOT run -d` (or another command): its stdio goes to a file, as run -d hands it to the container. */
function tsrunCli(args: string[]): { status: number | null; output: string } {
  const log = join(scratch, `cli-${process.pid}.log`);
  const fd = openSync(log, 'w');
  const r = spawnSync(join(REPO, 'bin/tsrun'), args, { stdio: ['ignore', fd, fd], env, timeout: 20_000 });
  closeSync(fd);
  return { status: r.status, output: readFileSync(log, 'utf8') };
}

function sleeper(): TestBundle {
  return makeBundle({ mutate: (spec, b) => { spec.process!.args = sh('sleep 1000', b.marker); spec.process!.terminal = false; } });
}

/** Starts the child test process; resolves with what it made once its containers run. */
function startChild(reaper: boolean, root: string, bundles: TestBundle[]): Promise<{ info: ChildInfo; pid: number }> {
  const child = spawn('node', [childScript, reaper ? 'on' : 'off', root, sessionsDir, ...bundles.map((b) => b.dir)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve({ info: JSON.parse(out) as ChildInfo, pid: child.pid! });
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
  });
}

function recorded(root: string, id: string): Made {
  const r = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { pid: number; cgroupDir?: string; rootfs: string };
  return { pid: r.pid, rootfs: r.rootfs, ...(r.cgroupDir ? { cgroupDir: r.cgroupDir } : {}) };
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^\S+ \(.*\) [ZX]/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function processesWith(marker: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker); } catch { return false; }
  });
}

function expectGone(made: Made[], bundles: TestBundle[]): void {
  for (const m of made) {
    expect(alive(m.pid), `init ${m.pid}`).toBe(false);
    if (m.cgroupDir) expect(existsSync(m.cgroupDir), m.cgroupDir).toBe(false);
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const b of bundles) {
    expect(mounts.includes(b.rootfs)).toBe(false);
    expect(processesWith(b.marker)).toEqual([]);
  }
}

describe.skipIf(skip)('session reaper', () => {
  it('a test process kill -9\'d with two live containers leaves nothing: state, cgroups, mounts, processes, reaper', async () => {
    const bundles = [sleeper(), sleeper()];
    const { info, pid } = await startChild(true, '', bundles);
    expect(info.root).toBe(join(sessionsDir, info.id));
    expect(info.reaperPid).toBeGreaterThan(0);
    const made = info.ids.map((id) => recorded(info.root, id));
    for (const m of made) expect(alive(m.pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await until('the reaper to finish', () => !alive(info.reaperPid!));
    expect(existsSync(info.root), info.root).toBe(false);
    expectGone(made, bundles);
  });

  it('in a shared root the reaper removes only its session\'s containers', async () => {
    const root = join(scratch, 'shared');
    const other = sleeper();
    const otherId = `nosession-${process.pid}`;
    expect(tsrunCli(['--root', root, 'run', '-d', '--bundle', other.dir, otherId]).status).toBe(0);
    try {
      const bundles = [sleeper(), sleeper()];
      const { info, pid } = await startChild(true, root, bundles);
      const made = info.ids.map((id) => recorded(root, id));
      process.kill(pid, 'SIGKILL');
      await until('the reaper to finish', () => !alive(info.reaperPid!));
      expectGone(made, bundles);
      for (const id of info.ids) expect(existsSync(join(root, id))).toBe(false);
      expect(alive(recorded(root, otherId).pid)).toBe(true);
    } finally {
      tsrunCli(['--root', root, 'delete', '--force', otherId]);
    }
  });

  it('close() deletes the session\'s containers and its root, and disarms the reaper', async () => {
    const s = await session({ sessionsDir });
    const b = sleeper();
    const id = `${s.id}-x`;
    const r = tsrunCli(['--root', s.root, 'run', '-d', '--bundle', b.dir, id]);
    expect(r.status, r.output).toBe(0);
    const made = recorded(s.root, id);
    const reaper = s.reaperPid!;
    await s.close();
    expect(existsSync(s.root)).toBe(false);
    expectGone([made], [b]);
    await until('the reaper to exit', () => !alive(reaper));
  });
});

describe.skipIf(skip)('sweep', () => {
  it('removes a dead session\'s containers (shared root and own root) and keeps a live session\'s and those of no session', async () => {
    const root = join(scratch, 'sweep-shared');
    // A dead session in the shared root, and one with its own root under the sessions dir.
    const deadBundles = [sleeper(), sleeper()];
    const dead = await startChild(false, root, deadBundles);
    const ownBundles = [sleeper()];
    const own = await startChild(false, '', ownBundles);
    expect(dead.info.reaperPid).toBeNull();
    const deadMade = [...dead.info.ids.map((id) => recorded(root, id)), ...own.info.ids.map((id) => recorded(own.info.root, id))];
    process.kill(dead.pid, 'SIGKILL');
    process.kill(own.pid, 'SIGKILL');
    await until('the children to die', () => !alive(dead.pid) && !alive(own.pid));
    // Without a reaper nothing happened yet.
    for (const m of deadMade) expect(alive(m.pid)).toBe(true);

    // A live session (this process) and a container of no session, in the same root.
    await using live = await session({ root, reaper: false });
    const liveBundle = sleeper();
    liveBundle.rewrite((spec) => { spec.annotations = { ...spec.annotations, ...live.annotations }; });
    const liveId = `${live.id}-live`;
    expect(tsrunCli(['--root', root, 'run', '-d', '--bundle', liveBundle.dir, liveId]).status).toBe(0);
    const none = sleeper();
    const noneId = `nosession-sweep-${process.pid}`;
    expect(tsrunCli(['--root', root, 'run', '-d', '--bundle', none.dir, noneId]).status).toBe(0);
    try {
      const removed = await sweep({ root });
      expect(removed.sort()).toEqual([...dead.info.ids].sort());
      const removedOwn = await sweep({ root: sessionsDir });
      expect(removedOwn).toEqual(own.info.ids);
      expect(existsSync(own.info.root)).toBe(false);
      expectGone(deadMade, [...deadBundles, ...ownBundles]);
      expect(alive(recorded(root, liveId).pid)).toBe(true);
      expect(alive(recorded(root, noneId).pid)).toBe(true);
      // The CLI is the same function.
      const cli = tsrunCli(['--root', root, 'sweep']);
      expect(cli.status, cli.output).toBe(0);
      expect(cli.output).toBe('');
    } finally {
      tsrunCli(['--root', root, 'delete', '--force', noneId]);
    }
    await live.close();
    expect(existsSync(join(root, liveId))).toBe(false);
  });
});
