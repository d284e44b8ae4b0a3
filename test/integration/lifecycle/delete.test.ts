// `delete --force` of a created and of a running container (no process, no state dir, no cgroup
// afterwards), and concurrency: two deletes of one id at once, ten `run -d` and ten `delete -f` in
// parallel.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, processesMatching } from '../../helpers/bundle.js';
import {
  cgroup2Mount, cleanupLifecycle, createIn, defaultCgroupDir, makeRoot, mustCreate, mustCreateAndStart, procState, rootEntries, runDetachedIn,
  scriptBundle, stateOf, tsrun, uniqueId, v2CgroupOf, waitForDeath, waitForFile,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const hasCgroup2 = cgroup2Mount() !== undefined;

/** Processes in the container's cgroup (empty without cgroup v2). */
function cgroupPids(id: string): number[] {
  if (!hasCgroup2) return [];
  return readFileSync(join(defaultCgroupDir(id), 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

/** Asserts that nothing of container `id` is left: its processes, state dir and cgroup. */
async function expectGone(root: string, id: string, pids: number[]): Promise<void> {
  for (const pid of pids) expect(`${pid}: ${await waitForDeath(pid, 100)}`).toMatch(new RegExp(`^${pid}: (absent|zombie)$`));
  expect(existsSync(join(root, id))).toBe(false);
  if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
  const st = await tsrun(root, ['state', id]);
  expect(st.exitCode).not.toBe(0);
  expect(st.stderr).toMatch(new RegExp(`container ${id} does not exist`));
}

describe.skipIf(skip !== undefined)(`lifecycle: delete --force${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle); // registered last, so it runs first

  it('delete --force of a created container: init gone, no state dir, no cgroup', async () => {
    const root = makeRoot();
    const id = uniqueId('dfcreated');
    const bundle = scriptBundle('echo "started $0"; sleep 1000');
    const c = await mustCreate(root, bundle, id);
    const { pid, status } = await stateOf(root, id);
    expect(status).toBe('created');
    expect(procState(pid)).toMatch(/^alive/);
    if (hasCgroup2) expect(cgroupPids(id)).toEqual([pid]);
    const r = await tsrun(root, ['delete', '--force', id]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('');
    expect(r.exitCode).toBe(0);
    await expectGone(root, id, [pid]);
    // The user process never ran.
    expect(c.stdout()).toBe('');
  });

  it('delete --force of a running container kills all its processes: init and children gone, no state dir, no cgroup', async () => {
    const root = makeRoot();
    const id = uniqueId('dfrunning');
    const bundle = scriptBundle('sleep 1000 & sleep 1000 & echo "up $0"; wait');
    const { pid, created } = await mustCreateAndStart(root, bundle, id);
    await waitForFile(created.stdoutFile, `up ${bundle.marker}`);
    const pids = hasCgroup2 ? cgroupPids(id) : [pid];
    if (hasCgroup2) {
      expect(pids).toContain(pid);
      expect(pids.length).toBe(3);
    }
    const t0 = Date.now();
    const r = await tsrun(root, ['delete', '--force', id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await expectGone(root, id, pids);
    expect(processesMatching(bundle.marker)).toEqual([]);
  });

  it('delete --force of a stopped container works like delete', async () => {
    const root = makeRoot();
    const id = uniqueId('dfstopped');
    const bundle = scriptBundle('exec sleep 1000');
    const { pid } = await mustCreateAndStart(root, bundle, id);
    expect((await tsrun(root, ['kill', id, 'KILL'])).exitCode).toBe(0);
    expect(await waitForDeath(pid)).toMatch(/^(absent|zombie)$/);
    expect((await stateOf(root, id)).status).toBe('stopped');
    const r = await tsrun(root, ['delete', '--force', id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    await expectGone(root, id, [pid]);
  });

  // Without a PID namespace the kernel does not kill the rest when the init dies: the container is
  // stopped but its cgroup still holds processes. runc's destroy() SIGKILLs them (signalAllProcesses
  // for a non-private PID namespace) before removing the cgroup, so `delete` works.
  it.skipIf(!hasCgroup2)('no PID namespace: init killed, a child left in the cgroup → stopped; delete kills the rest and removes everything', async () => {
    const root = makeRoot();
    const id = uniqueId('nopidns');
    const bundle = scriptBundle('sleep 1000 & echo "up $0"; wait', (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
    });
    const { pid, created } = await mustCreateAndStart(root, bundle, id);
    await waitForFile(created.stdoutFile, `up ${bundle.marker}`);
    const pids = cgroupPids(id);
    expect(pids).toContain(pid);
    expect(pids).toHaveLength(2);
    process.kill(pid, 'SIGKILL');
    expect(await waitForDeath(pid)).toMatch(/^(absent|zombie)$/);
    expect(await stateOf(root, id)).toMatchObject({ status: 'stopped', pid: 0 });
    const child = pids.find((p) => p !== pid)!;
    expect(procState(child)).toMatch(/^alive/);
    const r = await tsrun(root, ['delete', id], { timeout: 25_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    await expectGone(root, id, pids);
  }, 40_000);
});

describe.skipIf(skip !== undefined)(`lifecycle: concurrency${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  it('two delete --force of one id at once: both succeed (an unknown id is fine with --force), nothing left (3 rounds)', async () => {
    const root = makeRoot();
    const bundle = scriptBundle('echo "up $0"; while :; do sleep 0.1; done');
    for (let round = 0; round < 3; round++) {
      const id = uniqueId(`race${round}`);
      const { pid, created } = await mustCreateAndStart(root, bundle, id);
      await waitForFile(created.stdoutFile, 'up ');
      const results = await Promise.all([tsrun(root, ['delete', '--force', id]), tsrun(root, ['delete', '--force', id])]);
      expect(results.map((r) => [r.exitCode, r.stderr])).toEqual([[0, ''], [0, '']]);
      await expectGone(root, id, [pid]);
    }
    expect(rootEntries(root)).toEqual([]);
    expect(processesMatching(bundle.marker)).toEqual([]);
  });

  it('two start of one created container at once: exactly one succeeds, the process runs once', async () => {
    const root = makeRoot();
    const id = uniqueId('startrace');
    const bundle = scriptBundle('echo "started $0"; while :; do sleep 0.1; done');
    const c = await mustCreate(root, bundle, id);
    const results = await Promise.all([tsrun(root, ['start', id]), tsrun(root, ['start', id])]);
    expect(results.map((r) => r.exitCode).sort()).toEqual([0, 1]);
    const failed = results.find((r) => r.exitCode !== 0)!;
    expect(failed.stderr).toMatch(/^tsrun: container .*: cannot start an already running container/);
    await waitForFile(c.stdoutFile, 'started');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.stdout()).toBe(`started ${bundle.marker}\n`);
    expect((await stateOf(root, id)).status).toBe('running');
  });

  it('two create of one id at once: exactly one succeeds, the other fails ("already exists"), the winner works', async () => {
    const root = makeRoot();
    const id = uniqueId('createrace');
    const b1 = scriptBundle('echo "started $0"; while :; do sleep 0.1; done');
    const b2 = scriptBundle('echo "started $0"; while :; do sleep 0.1; done');
    const results = await Promise.all([createIn(root, b1, id), createIn(root, b2, id)]);
    expect(results.map((r) => r.exitCode).sort()).toEqual([0, 1]);
    const winner = results.findIndex((r) => r.exitCode === 0);
    const loser = results[1 - winner]!;
    expect(loser.stderr()).toMatch(new RegExp(`^tsrun: container ${id} already exists`));
    const wb = winner === 0 ? b1 : b2;
    const st = await stateOf(root, id);
    expect(st).toMatchObject({ status: 'created', bundle: wb.dir });
    if (hasCgroup2) expect(cgroupPids(id)).toEqual([st.pid]);
    expect((await tsrun(root, ['start', id])).exitCode).toBe(0);
    await waitForFile(results[winner]!.stdoutFile, `started ${wb.marker}\n`);
    expect(processesMatching((winner === 0 ? b2 : b1).marker)).toEqual([]);
    expect((await tsrun(root, ['delete', '-f', id])).exitCode).toBe(0);
    expect(rootEntries(root)).toEqual([]);
  });

  it('10 parallel run -d with distinct ids, then 10 parallel delete -f: all succeed, nothing left', async () => {
    const root = makeRoot();
    const bundle = scriptBundle('echo "up $0"; while :; do sleep 0.1; done');
    const ids = Array.from({ length: 10 }, (_, i) => uniqueId(`par${i}`));
    const runs = await Promise.all(ids.map((id) => runDetachedIn(root, bundle, id)));
    for (const [i, r] of runs.entries()) {
      expect({ id: ids[i], code: r.exitCode, stderr: r.stderr() }).toEqual({ id: ids[i], code: 0, stderr: '' });
    }
    // Generous waits: ten containers on a 2-core host shared with other test runs.
    for (const r of runs) await waitForFile(r.stdoutFile, `up ${bundle.marker}\n`, 15_000);

    const list = JSON.parse((await tsrun(root, ['list', '--format', 'json'])).stdout) as { id: string; status: string; pid: number }[];
    expect(list.map((c) => c.id).sort()).toEqual([...ids].sort());
    expect(list.every((c) => c.status === 'running')).toBe(true);
    const pids = list.map((c) => c.pid);
    expect(new Set(pids).size).toBe(10);
    if (hasCgroup2) for (const c of list) expect(v2CgroupOf(c.pid)).toBe(`/tsrun/${c.id}`);
    expect(processesMatching(root)).toEqual([]); // no tsrun left behind

    const deletes = await Promise.all(ids.map((id) => tsrun(root, ['delete', '-f', id])));
    for (const [i, d] of deletes.entries()) {
      expect({ id: ids[i], code: d.exitCode, stderr: d.stderr }).toEqual({ id: ids[i], code: 0, stderr: '' });
    }
    for (const pid of pids) expect(await waitForDeath(pid, 5_000)).toMatch(/^(absent|zombie)$/);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) for (const id of ids) expect(existsSync(defaultCgroupDir(id))).toBe(false);
    expect(processesMatching(bundle.marker)).toEqual([]);
  }, 60_000);
});
