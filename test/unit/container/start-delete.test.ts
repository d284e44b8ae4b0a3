// start and delete against the fake shim and a fake cgroupfs: a container created by createContainer
// (its init a real `sleep`, so /proc says it lives), started or not; and the half-made containers a
// create killed at each of its points leaves (state dir without a record, a "creating" record with
// or without a cgroup, an init, an image reference), which `delete` must remove entirely.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createContainer } from '../../../src/container/create.js';
import { deleteContainer } from '../../../src/container/delete.js';
import { startContainer } from '../../../src/container/start.js';
import { StateStore, type ContainerRecord } from '../../../src/state/store.js';
import { containerStatus, readProcStat, thisProcess } from '../../../src/state/status.js';
import type { Spec } from '../../../src/oci/types.js';
import { makeSandbox, type Sandbox } from '../../helpers/container-sandbox.js';
import type { ChildScript } from '../../helpers/fake-shim.js';

vi.mock('node:fs', async (actual) => (await import('../../helpers/fake-cgroupfs.js')).withCgroupfs(await actual()));

let sb: Sandbox | undefined;
afterEach(() => { sb?.remove(); sb = undefined; });

const ID = 'c';

/** The init of every container a test creates is a real process, so its status is derived as for a real one. */
const realInit = (): ChildScript => ({ standIn: spawn('sleep', ['1000'], { stdio: 'ignore' }) });

async function created(mutate?: (s: Spec) => void, script: (n: number) => ChildScript = realInit): Promise<Sandbox> {
  const s = makeSandbox(script);
  sb = s;
  s.writeConfig(mutate);
  const c = await createContainer({ id: ID, bundle: s.bundle, root: s.root, cgroupHost: s.cgroup.host });
  c.process.release();
  return s;
}

const status = (s: Sandbox): string => { const store = new StateStore(s.root); return containerStatus(store.read(ID), store.dir(ID)); };
const init = (s: Sandbox) => s.shim.children[0]!;

describe('start', () => {
  it('releases the init through the fifo, records it started, runs poststart', async () => {
    const marker = join(process.env.TMPDIR ?? '/tmp', `tsrun-unit-poststart-${process.pid}`);
    const s = await created((spec) => { spec.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran > ${marker}`] }] }; });
    expect(status(s)).toBe('created');
    await startContainer(s.root, ID);
    expect(new StateStore(s.root).read(ID).started).toBe(true);
    expect(existsSync(join(s.root, ID, 'exec.fifo'))).toBe(false);
    expect(status(s)).toBe('running');
    expect(readFileSync(marker, 'utf8')).toBe('ran\n');
    rmSync(marker, { force: true });
    await deleteContainer(s.root, ID, true);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('an init that died: refused as stopped; the record is left for delete', async () => {
    const s = await created();
    process.kill(init(s).pid, 'SIGKILL');
    await vi.waitFor(() => expect(readProcStat(init(s).pid)).toBeUndefined());
    await expect(startContainer(s.root, ID)).rejects.toThrow(/cannot start a container that has stopped/);
    expect(new StateStore(s.root).read(ID).started).toBe(false);
    await deleteContainer(s.root, ID);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('a startContainer hook fails: the container is destroyed — init, cgroup, state', async () => {
    const s = await created((spec) => { spec.hooks = { startContainer: [{ path: '/bin/hook' }] }; }, (n) => (n === 0 ? realInit() : { exitsWith: 1 << 8 }));
    await expect(startContainer(s.root, ID)).rejects.toThrow(/startContainer hook 0 \(\/bin\/hook\) exited with status 1/);
    const hook = s.shim.children.find((c) => c.plan.steps.some((x) => x.op === 'stdinFrom'))!;
    expect(hook.plan.joins.map((j) => j.path)).toContain(`/proc/${init(s).pid}/ns/mnt`);
    await vi.waitFor(() => expect(init(s).state).toBe('gone'));
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('a running container is refused, and left running', async () => {
    const s = await created();
    await startContainer(s.root, ID);
    await expect(startContainer(s.root, ID)).rejects.toThrow(/cannot start an already running container/);
    expect(init(s).state).not.toBe('gone');
  });
});

describe('delete of what a killed create left', () => {
  /** A record as create writes it first: "creating", naming the cgroup it will make. */
  function creatingRecord(s: Sandbox, creator = thisProcess(), more: Partial<ContainerRecord> = {}): ContainerRecord {
    return {
      ociVersion: '1.2.0', id: ID, pid: 0, pidStartTime: '', bundle: s.bundle, rootfs: join(s.bundle, 'rootfs'), created: new Date().toISOString(),
      cgroupDir: join(s.cgroup.root, 'tsrun', ID), cgroupOwnedRoot: join(s.cgroup.root, 'tsrun'), started: false,
      config: JSON.parse(readFileSync(join(s.bundle, 'config.json'), 'utf8')) as Spec, creator, ...more,
    };
  }
  /** A creator that no longer runs: a pid above pid_max. */
  const deadCreator = { pid: 2 ** 31 - 7, startTime: '1' };

  function sandbox(): Sandbox { sb = makeSandbox(); return sb; }

  it('killed between mkdir and the first record: a state dir without state.json', async () => {
    const s = sandbox();
    mkdirSync(join(s.root, ID), { recursive: true });
    await expect(deleteContainer(s.root, ID)).rejects.toThrow(/does not exist/);
    await deleteContainer(s.root, ID, true);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('killed before the cgroup existed: stopped, and delete removes the record', async () => {
    const s = sandbox();
    new StateStore(s.root).createDir(ID, creatingRecord(s, deadCreator));
    expect(status(s)).toBe('stopped');
    await deleteContainer(s.root, ID);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('killed after the cgroup and the fifo were made', async () => {
    const s = sandbox();
    new StateStore(s.root).createDir(ID, creatingRecord(s, deadCreator));
    writeFileSync(join(s.root, ID, 'exec.fifo'), '');
    mkdirSync(join(s.cgroup.root, 'tsrun', ID), { recursive: true });
    await deleteContainer(s.root, ID);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('killed after the init was made: the init is killed too (it was never handed over)', async () => {
    const s = sandbox();
    const initProc = s.standIn();
    await new Promise((r) => initProc.once('spawn', r));
    const pid = initProc.pid!;
    new StateStore(s.root).createDir(ID, creatingRecord(s, deadCreator, { pid, pidStartTime: readProcStat(pid)!.startTime }));
    mkdirSync(join(s.cgroup.root, 'tsrun', ID), { recursive: true });
    writeFileSync(join(s.cgroup.root, 'tsrun', ID, 'cgroup.procs'), `${pid}\n`);
    expect(status(s)).toBe('stopped');
    await deleteContainer(s.root, ID);
    expect(s.shim.byPid(pid)!.state).toBe('gone');
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('still being created (its creator lives): refused without --force; with it the creator is killed first', async () => {
    const s = sandbox();
    new StateStore(s.root).createDir(ID, creatingRecord(s));
    mkdirSync(join(s.cgroup.root, 'tsrun', ID), { recursive: true });
    expect(status(s)).toBe('creating');
    await expect(deleteContainer(s.root, ID)).rejects.toThrow(/not stopped: creating/);
    await deleteContainer(s.root, ID, true);
    // The fake never signals a process it does not own (here: this test's own process).
    expect(s.shim.foreignSignals).toEqual([{ pid: process.pid, sig: 9 }]);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('from an image: its reference in the image store is dropped', async () => {
    const s = sandbox();
    const ref = join(s.dir, 'store', 'containers', 'ref-1');
    mkdirSync(join(s.dir, 'store', 'containers'), { recursive: true });
    writeFileSync(ref, '{}');
    new StateStore(s.root).createDir(ID, creatingRecord(s, deadCreator));
    writeFileSync(join(s.root, ID, 'image.json'), JSON.stringify({ store: join(s.dir, 'store'), ref }));
    await deleteContainer(s.root, ID);
    expect(existsSync(ref)).toBe(false);
    expect(s.leftovers(ID)).toEqual([]);
  });
});
