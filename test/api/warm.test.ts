// The warm init (src/process/warm-init.ts): after a container of a source, the library clones the
// next one's process ahead of use. These tests show that it is used, that what it runs is the same
// container a fresh clone would give (stdio, fds, mounts made since, another config), and that it
// leaves nothing: not when its container fails, not when it is never used, not when the test process
// is SIGKILLed.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { run, start, TsrunError, type OciSpec } from '../../src/api/index.js';
import { detectCgroupHost } from '../../src/cgroups/index.js';
import { configureSpawn } from '../../src/native/spawn-settings.js';
import { mountsChanged } from '../../src/native/warm.js';
import { REPO, settled } from '../helpers/bundle.js';
import { leftovers, SAMPLE_BUNDLE, skipReason, testRoot } from './helpers.js';

const t = testRoot();
afterAll(() => t.remove());
const root = t.root;

/** The cgroups under tsrun's subtree whose name starts with `prefix` (a warm init's is named by the id it waits for). */
function tsrunCgroups(prefix: string): string[] {
  const dir = join(detectCgroupHost().mountPoint, 'tsrun');
  return existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith(prefix)) : [];
}

/** pids of the processes whose cgroup (v2 line of /proc/PID/cgroup) ends with /tsrun/<name>. */
function processesInCgroup(name: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cg = readFileSync(`/proc/${p}/cgroup`, 'utf8');
      if (cg.split('\n').some((l) => l.startsWith('0::') && l.endsWith(`/tsrun/${name}`))) pids.push(Number(p));
    } catch { /* gone */ }
  }
  return pids;
}

/**
 * A bundle of its own (its label, hence its warm init, is not shared with other tests), on the
 * sample rootfs: mounts may only target directories it has (a missing mount point would be made in
 * it, and other tests list it).
 */
function ownBundle(name: string): string {
  const dir = mkdtempSync(join('/tmp', `tsrun-warm-${name}-`));
  const config = JSON.parse(readFileSync(join(SAMPLE_BUNDLE, 'config.json'), 'utf8')) as OciSpec;
  config.root = { path: join(SAMPLE_BUNDLE, 'rootfs'), readonly: true };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

/** What the ids the library makes for a source have in common: the id less its random suffix. */
const idBase = (id: string): string => id.replace(/-[0-9a-f]{8}$/, '-');

/**
 * A first run() of `bundle` (/bin/true), and the cgroups of the same source besides its own once the
 * warm init made after it has one (polled: it is made on a worker thread).
 */
async function firstRun(bundle: string): Promise<{ first: Awaited<ReturnType<typeof run>>; base: string; waiting: string[] }> {
  // A warm init is not kept past a change of the mount table (see warmFits): if none comes, the
  // failure says whether one happened meanwhile (another process mounting on this host).
  const mounts = openSync('/proc/self/mountinfo', 'r');
  try {
    const first = await run({ bundle, cmd: ['true'] }, { root });
    const base = idBase(first.id);
    const waiting = await settled(() => tsrunCgroups(base).filter((d) => d !== first.id), (d) => d.length === 1);
    if (waiting.length !== 1) {
      throw new Error(`${waiting.length} warm inits after the first run of ${first.id} (the mount table ${mountsChanged(mounts) ? 'changed' : 'did not change'} meanwhile)`);
    }
    return { first, base, waiting };
  } finally {
    closeSync(mounts);
  }
}

/** Waits until the warm init in cgroup `name` has run its steps ahead: its / is the rootfs, and it holds no directory. */
async function ranAhead(name: string): Promise<number> {
  const [pid] = await settled(() => processesInCgroup(name), (p) => p.length === 1);
  const rootOf = (): string => readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')?.split(' ')[3] ?? '';
  expect(await settled(rootOf, (r) => r.endsWith('/rootfs'))).toMatch(/\/rootfs$/);
  const dirFds = (): string[] => readdirSync(`/proc/${pid}/fd`).filter((fd) => { try { return statSync(`/proc/${pid}/fd/${fd}`).isDirectory(); } catch { return false; } });
  expect(await settled(dirFds, (d) => d.length === 0)).toEqual([]);
  return pid!;
}

/** A worker thread that runs /bin/true from `bundle` with the library (r: the result), then `rest`. */
function workerRunning(bundle: string, rest: string): Worker {
  return new Worker(`
    const { run } = await import(${JSON.stringify(join(REPO, 'dist/api/index.js'))});
    const { parentPort } = await import('node:worker_threads');
    const r = await run({ bundle: ${JSON.stringify(bundle)}, cmd: ['true'] }, { root: ${JSON.stringify(root)} });
    ${rest}`, { eval: true, type: 'module' } as WorkerOptions);
}

const bundles: string[] = [];
afterAll(() => { for (const b of bundles) rmSync(b, { recursive: true, force: true }); });

describe.skipIf(skipReason)('the warm init', () => {
  it('the next container of a source runs in the init made for it: same output, only its stdio, nothing left', async () => {
    const bundle = ownBundle('used');
    bundles.push(bundle);
    const { first, waiting } = await firstRun(bundle);
    expect(waiting).toHaveLength(1);
    const warmPids = await settled(() => processesInCgroup(waiting[0]!), (p) => p.length === 1);
    expect(warmPids).toHaveLength(1);
    const r = await run({ bundle, cmd: ['sh', '-c', 'echo out; echo err >&2; ls /proc/self/fd; echo pid $$'] }, { root });
    expect(r.id).toBe(waiting[0]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('err\n');
    // ls opens /proc/self/fd itself (3): nothing of the warm init's (its sync socket, the plan) reached the process.
    expect(r.stdout).toBe('out\n0\n1\n2\n3\npid 1\n');
    expect(leftovers(root, r.id)).toEqual([]);
    expect(leftovers(root, first.id)).toEqual([]);
  });

  it('is made after every first run, also when that container\'s removal empties the cgroup it is made in', async () => {
    // Each source's first run() gives up the last source's init: the container's own cgroup is then
    // the only one under tsrun's, and its removal takes that parent too, while the next init's
    // cgroup is being made in it on a worker thread. Lost in ~1 of 30 sources before the fix.
    const missed: string[] = [];
    for (let i = 0; i < 60; i++) {
      const bundle = ownBundle(`parent${i}`);
      bundles.push(bundle);
      await firstRun(bundle).catch((e: unknown) => missed.push((e as Error).message));
    }
    expect(missed).toEqual([]);
  });

  it('runs the set-up ahead: while it waits, its root is the container\'s rootfs, and it holds no directory', async () => {
    const bundle = ownBundle('ahead');
    bundles.push(bundle);
    const { waiting } = await firstRun(bundle);
    const [pid] = await settled(() => processesInCgroup(waiting[0]!), (p) => p.length === 1);
    // mountinfo: the mount at / is a bind of the sample rootfs (its root field), not the host's /.
    const rootLine = await settled(
      () => readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/') ?? '',
      (l) => l.split(' ')[3]!.endsWith('/rootfs'),
    );
    expect(rootLine.split(' ')[3]).toMatch(/\/rootfs$/);
    expect(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')).not.toContain(' /sys/fs/cgroup/unified ');
    // Its fds while it waits: the sync socket, tsrun's mountinfo and mount namespace; no directory
    // a path could go through (CVE-2024-21626). The rootfs's fd serves the steps run ahead until the
    // last of them (the lockdown, after pivot_root): polled until they are all done.
    const dirFds = (): string[] => readdirSync(`/proc/${pid}/fd`).filter((fd) => { try { return statSync(`/proc/${pid}/fd/${fd}`).isDirectory(); } catch { return false; } });
    expect(await settled(dirFds, (d) => d.length === 0)).toEqual([]);
    const r = await run({ bundle, cmd: ['sh', '-c', 'hostname; ls /proc/self/fd'] }, { root });
    expect(r.id).toBe(waiting[0]);
    expect(r.stdout).toBe(`${JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')).hostname}\n0\n1\n2\n3\n`);
    expect(leftovers(root, r.id)).toEqual([]);
  });

  it('is not used when the config changed since it ran ahead: the container has the new config', async () => {
    const bundle = ownBundle('changed');
    bundles.push(bundle);
    const { waiting } = await firstRun(bundle);
    await settled(() => processesInCgroup(waiting[0]!), (p) => p.length === 1);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as OciSpec;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify({ ...config, hostname: 'changed-since' }));
    const r = await run({ bundle, cmd: ['hostname'] }, { root });
    expect(r.stdout).toBe('changed-since\n');
    expect(r.exitCode).toBe(0);
    expect(leftovers(root, r.id)).toEqual([]);
  });

  it('a step that fails ahead leaves neither the init nor its cgroup; the next container reports the step as a fresh clone does', async () => {
    const bundle = ownBundle('ahead-fails');
    bundles.push(bundle);
    // Refused by mount(2) only, not by the planning: the step fails in every init of this source.
    const mounts = [{ type: 'tmpfs' as const, source: 'tmpfs', target: '/mnt', options: ['size=not-a-size'] }];
    const first = await run({ bundle, cmd: ['true'], mounts }, { root }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TsrunError);
    expect((first as TsrunError).syscall).toBe('mount');
    // The ids of a bundle's containers start with its directory's name (container/run.ts, generatedId).
    const base = `${basename(bundle)}-`;
    // The init made after the failure ran the same step, failed, and removed itself (its cgroup with
    // it): polled until then, as it is made on a worker thread; a waiting init would stay.
    await settled(() => tsrunCgroups(base), (d) => d.length > 0, 300).catch(() => undefined);
    expect(await settled(() => tsrunCgroups(base), (d) => d.length === 0)).toEqual([]);
    const again = await run({ bundle, cmd: ['true'], mounts }, { root }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(TsrunError);
    expect((again as TsrunError).syscall).toBe('mount');
    expect((again as TsrunError).field).toBe((first as TsrunError).field);
  });

  it('is not used when something was mounted since its clone: the container sees the mount, as a fresh clone would', async () => {
    const bundle = ownBundle('mounts');
    bundles.push(bundle);
    const shared = mkdtempSync(join('/tmp', 'tsrun-warm-mnt-'));
    const mounts = [{ type: 'bind' as const, source: shared, target: '/mnt' }];
    try {
      const first = await run({ bundle, cmd: ['true'], mounts }, { root });
      const base = idBase(first.id);
      await settled(() => processesInCgroup(tsrunCgroups(base).find((d) => d !== first.id) ?? '-'), (p) => p.length === 1);
      execFileSync('mount', ['-t', 'tmpfs', 'tsrun-warm-test', shared]);
      try {
        writeFileSync(join(shared, 'marker'), 'on the tmpfs\n');
        const r = await run({ bundle, cmd: ['cat', '/mnt/marker'], mounts }, { root });
        expect(r.stdout).toBe('on the tmpfs\n');
        expect(r.exitCode).toBe(0);
      } finally {
        execFileSync('umount', [shared]);
      }
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('goes away by itself when the host unmounts something its copy of the mount table holds (it would keep it alive)', async () => {
    const bundle = ownBundle('unmount');
    bundles.push(bundle);
    const dir = mkdtempSync(join('/tmp', 'tsrun-warm-held-'));
    execFileSync('mount', ['-t', 'tmpfs', 'tsrun-warm-held', dir]);
    let mounted = true;
    try {
      const { first, base, waiting } = await firstRun(bundle);
      expect(waiting).toHaveLength(1);
      expect(await settled(() => processesInCgroup(waiting[0]!), (p) => p.length === 1)).toHaveLength(1);
      execFileSync('umount', [dir]);
      mounted = false;
      // No run() follows: the init itself saw the change, left and removed its cgroup.
      expect(await settled(() => tsrunCgroups(base).filter((d) => d !== first.id), (d) => d.length === 0)).toEqual([]);
      // And the next container of the source is made as usual.
      const r = await run({ bundle, cmd: ['true'] }, { root });
      expect(r.exitCode).toBe(0);
      expect(leftovers(root, r.id)).toEqual([]);
    } finally {
      if (mounted) execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is given up when the next container has other namespaces, and the container still runs under the id it was made for', async () => {
    const bundle = ownBundle('config');
    bundles.push(bundle);
    const { waiting } = await firstRun(bundle);
    const noNet = { config: (s: OciSpec) => ({ ...s, linux: { ...s.linux, namespaces: (s.linux?.namespaces ?? []).filter((n) => n.type !== 'network') } }) };
    const r = await run({ bundle, cmd: ['sh', '-c', 'ls /sys/class/net | grep -c .'], ...noNet }, { root });
    expect(r.id).toBe(waiting[0]);
    // The host's interfaces: more than the lone lo of a new network namespace.
    expect(Number(r.stdout.trim())).toBeGreaterThan(1);
    expect(leftovers(root, r.id)).toEqual([]);
  });

  it('a container that fails in its warm init throws its step, and leaves neither the container nor the init', async () => {
    const bundle = ownBundle('fails');
    bundles.push(bundle);
    const { first, base, waiting } = await firstRun(bundle);
    // Taken once it ran ahead: one taken earlier would have two inits made after it (see 'back to back').
    await ranAhead(waiting[0]!);
    const err = await run({ bundle, cmd: ['/no/such/program'] }, { root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TsrunError);
    expect((err as TsrunError).field).toBe('process.args');
    expect(leftovers(root, waiting[0]!)).toEqual([]);
    // A config refused while the create plans (after it took the init) gives the init up.
    const next = await settled(() => tsrunCgroups(base).filter((d) => d !== first.id && d !== waiting[0]), (d) => d.length === 1);
    expect(next).toHaveLength(1);
    const systemdPath = { config: (s: OciSpec) => ({ ...s, linux: { ...s.linux, cgroupsPath: 'system.slice:tsrun:x' } }) };
    const bad = await run({ bundle, cmd: ['true'], ...systemdPath }, { root }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TsrunError);
    expect((bad as TsrunError).field).toBe('linux.cgroupsPath');
    expect(await settled(() => tsrunCgroups(next[0]!), (d) => d.length === 0)).toEqual([]);
    expect(leftovers(root, next[0]!)).toEqual([]);
  });

  it('containers back to back keep two inits, so that the one taken had a whole container\'s time to be made and run ahead', async () => {
    const bundle = ownBundle('back-to-back');
    bundles.push(bundle);
    // The second takes the init made after the first before it is ready: from then on two are kept.
    const first = await run({ bundle, cmd: ['true'] }, { root });
    const second = await run({ bundle, cmd: ['true'] }, { root });
    const base = idBase(first.id);
    const waiting = await settled(() => tsrunCgroups(base).filter((d) => d !== first.id && d !== second.id), (d) => d.length === 2);
    expect(waiting).toHaveLength(2);
    for (const w of waiting) await ranAhead(w);
    const third = await run({ bundle, cmd: ['sh', '-c', 'hostname; ls /proc/self/fd'] }, { root });
    expect(waiting).toContain(third.id);
    expect(third.stdout).toBe(`${JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')).hostname}\n0\n1\n2\n3\n`);
    expect(leftovers(root, third.id)).toEqual([]);
    // The one left and the one made after the third.
    const after = await settled(() => tsrunCgroups(base).filter((d) => ![first.id, second.id, third.id].includes(d)), (d) => d.length === 2);
    expect(after).toContain(waiting.find((w) => w !== third.id));
    // Another source's run gives both up.
    const other = ownBundle('back-to-back-other');
    bundles.push(other);
    await run({ bundle: other, cmd: ['true'] }, { root });
    expect(await settled(() => tsrunCgroups(base), (d) => d.length === 0, 10_000)).toEqual([]);
  });

  it('start() uses it too: a detached container with its logs, stopped and removed', async () => {
    const bundle = ownBundle('start');
    bundles.push(bundle);
    const { waiting } = await firstRun(bundle);
    await settled(() => processesInCgroup(waiting[0]!), (p) => p.length === 1);
    const c = await start({ bundle, cmd: ['sh', '-c', 'echo ready; exec sleep 60'] }, { root });
    try {
      expect(c.id).toBe(waiting[0]);
      expect(await settled(() => c.logs().text(), (s) => s.includes('ready'))).toContain('ready\n');
    } finally {
      // Also when an expectation failed: a started container would stay, with its cgroup.
      await c.stop({ timeoutMs: 2_000 });
    }
    expect(leftovers(root, c.id)).toEqual([]);
  });

  it('{ warm: false } neither takes nor makes one', async () => {
    const bundle = ownBundle('optout');
    bundles.push(bundle);
    const { first, base, waiting } = await firstRun(bundle);
    expect(waiting).toHaveLength(1);
    const r = await run({ bundle, cmd: ['true'] }, { root, warm: false });
    expect(r.id).not.toBe(waiting[0]);
    // The one made before is still there for the next call that wants it.
    expect(tsrunCgroups(base).filter((d) => d !== first.id && d !== r.id)).toEqual(waiting);
    const again = await run({ bundle, cmd: ['true'] }, { root });
    expect(again.id).toBe(waiting[0]);
  });

  it('with the setting off, no init is made ahead', async () => {
    const restore = configureSpawn({ warm: false });
    try {
      const bundle = ownBundle('off');
      bundles.push(bundle);
      const first = await run({ bundle, cmd: ['true'] }, { root });
      const base = idBase(first.id);
      await new Promise((r) => setTimeout(r, 300));
      expect(tsrunCgroups(base)).toEqual([]);
    } finally {
      restore();
    }
  });

  it('a worker thread that ends with a warm init waiting leaves no process and no cgroup (the process goes on)', async () => {
    const bundle = ownBundle('worker');
    bundles.push(bundle);
    const worker = workerRunning(bundle, `
      // Until its warm init is made (a worker thread's clone), then the worker ends by itself.
      const base = r.id.replace(/-[0-9a-f]{8}$/, '-');
      const { readdirSync } = await import('node:fs');
      const dir = ${JSON.stringify(join(detectCgroupHost().mountPoint, 'tsrun'))};
      for (let i = 0; i < 500 && !readdirSync(dir).some((d) => d.startsWith(base)); i++) await new Promise((res) => setTimeout(res, 10));
      parentPort.postMessage(r.id);`);
    // Listened for before anything is awaited: the worker may end right after its message.
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    const id = await new Promise<string>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    const base = idBase(id);
    await exited;
    expect(await settled(() => tsrunCgroups(base), (d) => d.length === 0, 10_000)).toEqual([]);
  });

  it('a worker thread that is terminated with a warm init waiting leaves no process and no cgroup (vitest\'s threads pool ends its workers so)', async () => {
    const bundle = ownBundle('terminated');
    bundles.push(bundle);
    const worker = workerRunning(bundle, `
      parentPort.postMessage(r.id);
      setInterval(() => {}, 1000);`);
    try {
      const id = await new Promise<string>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
      const base = idBase(id);
      const waiting = await settled(() => tsrunCgroups(base), (d) => d.length === 1, 10_000);
      expect(waiting).toHaveLength(1);
      expect(await settled(() => processesInCgroup(waiting[0]!), (p) => p.length === 1)).toHaveLength(1);
      // terminate() runs none of the worker's exit handlers: its fds stay open in this process.
      await worker.terminate();
      expect(await settled(() => tsrunCgroups(base), (d) => d.length === 0, 10_000)).toEqual([]);
    } finally {
      await worker.terminate();
    }
  });

  it('a worker thread\'s warm init runs nothing ahead (its background native calls could abort the process when the worker is terminated)', async () => {
    // Its / one moment after it is made: the host's (on the main thread, the rootfs within ms: the
    // test 'runs the set-up ahead'). An init leaves when the host's mount table changes (another test
    // file mounting meanwhile): then that try does not count, and another is made.
    const rootOfWorkersInit = async (): Promise<string | 'left'> => {
      const bundle = ownBundle('worker-ahead');
      bundles.push(bundle);
      const mounts = openSync('/proc/self/mountinfo', 'r');
      const worker = workerRunning(bundle, `
        parentPort.postMessage(r.id);
        setInterval(() => {}, 1000);`);
      try {
        const id = await new Promise<string>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
        const waiting = await settled(() => tsrunCgroups(idBase(id)), (d) => d.length === 1, 10_000);
        expect(waiting).toHaveLength(1);
        const [pid] = await settled(() => processesInCgroup(waiting[0]!), (p) => p.length === 1);
        await new Promise((r) => setTimeout(r, 500));
        try {
          return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')?.split(' ')[3] ?? '';
        } catch (err) {
          if (mountsChanged(mounts)) return 'left';
          throw err;
        }
      } finally {
        closeSync(mounts);
        await worker.terminate();
      }
    };
    let root = await rootOfWorkersInit();
    for (let i = 0; i < 4 && root === 'left'; i++) root = await rootOfWorkersInit();
    expect(root).toBe('/');
  });

  it('a test process SIGKILLed with a warm init waiting leaves no process and no cgroup', async () => {
    const bundle = ownBundle('killed');
    bundles.push(bundle);
    const script = `
      const { run } = await import(${JSON.stringify(join(REPO, 'dist/api/index.js'))});
      const r = await run({ bundle: ${JSON.stringify(bundle)}, cmd: ['true'] }, { root: ${JSON.stringify(root)} });
      console.log(r.id);
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const id = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('\n')) resolve(out.trim()); });
        child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
      });
      const base = idBase(id);
      const waiting = await settled(() => tsrunCgroups(base), (d) => d.length === 1, 10_000);
      expect(waiting).toHaveLength(1);
      expect(await settled(() => processesInCgroup(waiting[0]!), (p) => p.length === 1)).toHaveLength(1);
      child.kill('SIGKILL');
      expect(await settled(() => tsrunCgroups(base), (d) => d.length === 0, 10_000)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
