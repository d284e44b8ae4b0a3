// withContainer (src/state/with-container.ts): loads the record, derives the status, checks the
// lifecycle table before the operation runs, and holds the container's lock exactly for the operations
// the table says change it. The "container" here is a record naming a live process of the test's own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StateStore, type ContainerRecord } from '../../../src/state/store.js';
import { readProcStat } from '../../../src/state/status.js';
import { withContainer } from '../../../src/state/with-container.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
afterAll(() => { for (const c of children) c.kill('SIGKILL'); });

/** A state root holding container `id` whose init is a live `sleep` of this test: status running. */
function runningContainer(id = 'c1'): { root: string; store: StateStore } {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-with-container-'));
  dirs.push(root);
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  children.push(child);
  const record: ContainerRecord = {
    ociVersion: '1.2.0', id, pid: child.pid!, pidStartTime: readProcStat(child.pid!)!.startTime, bundle: '/b', rootfs: '/b/rootfs',
    created: '2024-01-01T00:00:00.000Z', started: true, config: { ociVersion: '1.2.0' },
  };
  const store = new StateStore(root);
  store.createDir(id, record);
  return { root, store };
}

const lockedByOthers = (dir: string): boolean => spawnSync('flock', ['-n', dir, 'true']).status !== 0;

describe('withContainer', () => {
  it('refuses an operation the status does not allow, in the table\'s words, before it runs', async () => {
    const { root } = runningContainer();
    let ran = false;
    await expect(withContainer(root, 'c1', 'start', () => { ran = true; })).rejects.toThrow('container c1: cannot start an already running container');
    await expect(withContainer(root, 'c1', 'resume', () => { ran = true; })).rejects.toThrow('container not paused');
    expect(ran).toBe(false);
  });

  it('runs an allowed operation with the record and the status, holding the container\'s lock', async () => {
    const { root, store } = runningContainer();
    const seen = await withContainer(root, 'c1', 'kill', ({ record, status }) => ({ id: record.id, status, locked: lockedByOthers(store.dir('c1')) }));
    expect(seen).toEqual({ id: 'c1', status: 'running', locked: true });
    expect(lockedByOthers(store.dir('c1'))).toBe(false);
  });

  it('a read (state) neither takes the lock nor waits for a holder of it', async () => {
    const { root, store } = runningContainer();
    let release!: () => void;
    let held!: () => void;
    const holding = new Promise<void>((r) => { held = r; });
    // The holder's fn runs with the lock taken: wait for that (not a fixed 20 ms).
    const holder = withContainer(root, 'c1', 'delete --force', () => new Promise<void>((r) => { release = r; held(); }));
    await holding;
    const read = await withContainer(root, 'c1', 'state', ({ status }) => ({ status, locked: lockedByOthers(store.dir('c1')) }));
    expect(read).toEqual({ status: 'running', locked: true }); // locked by the holder, not by the read
    release();
    await holder;
  });

  it('an unknown id "does not exist", locking or not', async () => {
    const { root } = runningContainer();
    await expect(withContainer(root, 'nope', 'kill', () => 0)).rejects.toThrow('container nope does not exist');
    await expect(withContainer(root, 'nope', 'state', () => 0)).rejects.toThrow('container nope does not exist');
  });

  it('a directory without a record goes to `unrecorded` (under the lock), or "does not exist" without it', async () => {
    const { root, store } = runningContainer();
    mkdirSync(store.dir('half'), { mode: 0o700 });
    await expect(withContainer(root, 'half', 'delete', () => 'ran')).rejects.toThrow('container half does not exist');
    const got = await withContainer(root, 'half', 'delete --force', () => 'ran', { unrecorded: () => `unrecorded, locked: ${lockedByOthers(store.dir('half'))}` });
    expect(got).toBe('unrecorded, locked: true');
  });
});
