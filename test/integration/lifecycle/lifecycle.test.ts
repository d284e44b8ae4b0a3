// The OCI lifecycle through the runc-style CLI: create → created (init waiting, user process not
// started) → start → running → kill → stopped (pid 0) → delete → gone; create's stdio is the
// container's; a dead init is reported stopped (also when its pid now names another process);
// `list`; `run` (exit code, nothing left) and `run -d` (returns at once, no tsrun left behind).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, processesMatching, settled } from '../../helpers/bundle.js';
import {
  cgroup2Mount, cleanupLifecycle, createIn, defaultCgroupDir, makeRoot, mustCreate, mustCreateAndStart, procState, rootEntries,
  runDetachedIn, scriptBundle, stateOf, tsrun, uniqueId, v2CgroupOf, waitForDeath, waitForFile, waitForStatus,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const hasCgroup2 = cgroup2Mount() !== undefined;

describe.skipIf(skip !== undefined)(`lifecycle: create/start/state/kill/delete${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle); // registered last, so it runs first (hooks run as a stack)

  it('create → created (pid == --pid-file) → start → running, output on create\'s stdio → kill TERM → stopped, pid 0 → delete → gone', async () => {
    const root = makeRoot();
    const id = uniqueId('life');
    const bundle = scriptBundle('trap "echo got-TERM; exit 0" TERM; echo "started $0"; echo "to-stderr" >&2; sleep 1000 & wait');
    const pidFile = join(bundle.dir, 'init.pid');

    const created = await createIn(root, bundle, id, ['--pid-file', pidFile]);
    expect(created.stderr()).toBe('');
    expect(created.exitCode).toBe(0);
    const pidText = readFileSync(pidFile, 'utf8');
    expect(pidText).toMatch(/^[1-9][0-9]*$/); // runc writes the bare decimal pid, no newline
    const pid = Number(pidText.trim());

    const s1 = await stateOf(root, id);
    expect(s1).toMatchObject({ id, status: 'created', pid, bundle: bundle.dir, annotations: {} });
    expect(s1.ociVersion).toMatch(/^1\.\d+\.\d+/);
    expect(typeof s1.created).toBe('string');
    expect(Number.isNaN(Date.parse(s1.created!))).toBe(false);
    expect(s1.owner).toBe('root');
    expect(procState(pid)).toMatch(/^alive/);
    // `create` has returned and no tsrun stays behind: the only process with the root in its argv is
    // the init itself (a clone of tsrun, like runc's `runc init`, until it execs).
    expect(processesMatching(root).filter((p) => p.pid !== pid)).toEqual([]);
    // Created, not started: the user process has not run (its first line is not there).
    await new Promise((r) => setTimeout(r, 200));
    expect(created.stdout()).toBe('');
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(bundle.marker);

    const started = await tsrun(root, ['start', id]);
    expect(started.stderr).toBe('');
    expect(started.exitCode).toBe(0);
    // create's stdout/stderr are the container's.
    await waitForFile(created.stdoutFile, `started ${bundle.marker}\n`);
    await waitForFile(created.stderrFile, 'to-stderr\n');
    const s2 = await stateOf(root, id);
    expect(s2).toMatchObject({ id, status: 'running', pid });
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain(bundle.marker);

    const killed = await tsrun(root, ['kill', id, 'TERM']);
    expect(killed.stderr).toBe('');
    expect(killed.exitCode).toBe(0);
    await waitForFile(created.stdoutFile, 'got-TERM\n');
    const s3 = await waitForStatus(root, id, 'stopped');
    expect(s3).toMatchObject({ id, status: 'stopped', pid: 0, bundle: bundle.dir });
    expect(await waitForDeath(pid)).not.toMatch(/^alive/);

    const deleted = await tsrun(root, ['delete', id]);
    expect(deleted.stderr).toBe('');
    expect(deleted.exitCode).toBe(0);
    const gone = await tsrun(root, ['state', id]);
    expect(gone.exitCode).not.toBe(0);
    expect(gone.stdout).toBe('');
    expect(gone.stderr).toMatch(new RegExp(`container ${id} does not exist`));
    expect(existsSync(join(root, id))).toBe(false);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
  });

  it('kill KILL stops an init that ignores TERM (pid 1 of its namespace without a handler)', async () => {
    const root = makeRoot();
    const id = uniqueId('kill9');
    const bundle = scriptBundle('echo up; while :; do sleep 0.05; done');
    const { pid, created } = await mustCreateAndStart(root, bundle, id);
    await waitForFile(created.stdoutFile, 'up\n');
    // TERM has no handler in a PID namespace's init: the kernel drops it, the container keeps running.
    expect((await tsrun(root, ['kill', id])).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect((await stateOf(root, id)).status).toBe('running');
    const k = await tsrun(root, ['kill', id, 'KILL']);
    expect(k.stderr).toBe('');
    expect(k.exitCode).toBe(0);
    expect(await waitForStatus(root, id, 'stopped')).toMatchObject({ status: 'stopped', pid: 0 });
    expect(await waitForDeath(pid)).not.toMatch(/^alive/);
    expect((await tsrun(root, ['delete', id])).exitCode).toBe(0);
    expect(rootEntries(root)).toEqual([]);
  });

  it('kill accepts a signal as TERM, SIGTERM or 15, and USR1 reaches the container', async () => {
    const root = makeRoot();
    const id = uniqueId('signames');
    const bundle = scriptBundle('trap "echo TERM" TERM; trap "echo USR1" USR1; echo ready; while :; do sleep 0.05; done');
    const { created } = await mustCreateAndStart(root, bundle, id);
    await waitForFile(created.stdoutFile, 'ready\n');
    for (const [i, sig] of ['TERM', 'SIGTERM', '15'].entries()) {
      const r = await tsrun(root, ['kill', id, sig]);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      await waitForFile(created.stdoutFile, `ready\n${'TERM\n'.repeat(i + 1)}`);
    }
    expect((await tsrun(root, ['kill', id, 'USR1'])).exitCode).toBe(0);
    await waitForFile(created.stdoutFile, 'TERM\nUSR1\n');
    expect((await stateOf(root, id)).status).toBe('running');
    expect((await tsrun(root, ['delete', '--force', id])).exitCode).toBe(0);
  });

  it('kill --all signals every process in the container\'s cgroup; kill without --all only the init', async () => {
    const root = makeRoot();
    const id = uniqueId('killall');
    // The init traps USR1; its two children (subshells) trap it too, say so, and report it. (Each says
    // when its trap is set: a child still without it when kill --all comes would die of USR1, which
    // happened when the script only slept 0.3 s and the host was slow.)
    const bundle = scriptBundle([
      'trap "echo init-USR1" USR1',
      '(trap "echo child1-USR1" USR1; echo child1-trapping; while :; do sleep 0.05; done) &',
      '(trap "echo child2-USR1" USR1; echo child2-trapping; while :; do sleep 0.05; done) &',
      'echo ready; while :; do sleep 0.05; done',
    ].join('\n'));
    const { created } = await mustCreateAndStart(root, bundle, id);
    for (const line of ['ready\n', 'child1-trapping\n', 'child2-trapping\n']) await waitForFile(created.stdoutFile, line);
    expect((await tsrun(root, ['kill', id, 'USR1'])).exitCode).toBe(0);
    await waitForFile(created.stdoutFile, 'init-USR1\n');
    await new Promise((r) => setTimeout(r, 300));
    expect(created.stdout()).not.toMatch(/child\d-USR1/);
    const all = await tsrun(root, ['kill', '--all', id, 'USR1']);
    expect(all.stderr).toBe('');
    expect(all.exitCode).toBe(0);
    await waitForFile(created.stdoutFile, 'child1-USR1\n');
    await waitForFile(created.stdoutFile, 'child2-USR1\n');
    // The init runs its trap once its sleep 0.05 ends, which may be after the children's: wait for it too.
    const inits = await settled(() => created.stdout().match(/init-USR1/g)?.length ?? 0, (n) => n >= 2);
    expect(inits).toBe(2);
    expect((await tsrun(root, ['delete', '--force', id])).exitCode).toBe(0);
  });

  it('kill KILL of a created container stops it (pid 0) without running the process; delete removes it', async () => {
    const root = makeRoot();
    const id = uniqueId('killcreated');
    const bundle = scriptBundle('echo "started $0"');
    const c = await mustCreate(root, bundle, id);
    const { pid } = await stateOf(root, id);
    const k = await tsrun(root, ['kill', id, 'KILL']);
    expect(k.stderr).toBe('');
    expect(k.exitCode).toBe(0);
    expect(await waitForStatus(root, id, 'stopped')).toMatchObject({ pid: 0 });
    expect(await waitForDeath(pid)).toMatch(/^(absent|zombie)$/);
    expect(c.stdout()).toBe('');
    expect((await tsrun(root, ['delete', id])).exitCode).toBe(0);
    expect(rootEntries(root)).toEqual([]);
  });

  it('a process that exits by itself: its output appears, the container is stopped (pid 0), plain delete removes it', async () => {
    const root = makeRoot();
    const id = uniqueId('selfexit');
    const bundle = scriptBundle('echo "bye $0"; exit 3');
    const { created } = await mustCreateAndStart(root, bundle, id);
    await waitForFile(created.stdoutFile, `bye ${bundle.marker}\n`);
    expect(await waitForStatus(root, id, 'stopped')).toMatchObject({ id, status: 'stopped', pid: 0 });
    const del = await tsrun(root, ['delete', id]);
    expect(del.stderr).toBe('');
    expect(del.exitCode).toBe(0);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
  });

  it('a created container whose init is SIGKILLed from the host is stopped (pid 0), and plain delete removes it', async () => {
    const root = makeRoot();
    const id = uniqueId('deadcreated');
    const bundle = scriptBundle('echo never');
    await mustCreate(root, bundle, id);
    const { pid } = await stateOf(root, id);
    process.kill(pid, 'SIGKILL');
    expect(await waitForDeath(pid)).not.toMatch(/^alive/);
    expect(await stateOf(root, id)).toMatchObject({ status: 'stopped', pid: 0 });
    const start = await tsrun(root, ['start', id]);
    expect(start.exitCode).not.toBe(0);
    expect(start.stderr).toMatch(/stopped/);
    const del = await tsrun(root, ['delete', id]);
    expect(del.stderr).toBe('');
    expect(del.exitCode).toBe(0);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
  });

  it('a running container whose init is SIGKILLed from the host is stopped (pid 0); kill then fails, delete works', async () => {
    const root = makeRoot();
    const id = uniqueId('deadrunning');
    const bundle = scriptBundle('echo up; sleep 1000');
    const { pid, created } = await mustCreateAndStart(root, bundle, id);
    await waitForFile(created.stdoutFile, 'up\n');
    process.kill(pid, 'SIGKILL');
    expect(await waitForDeath(pid)).not.toMatch(/^alive/);
    expect(await stateOf(root, id)).toMatchObject({ status: 'stopped', pid: 0 });
    const k = await tsrun(root, ['kill', id, 'KILL']);
    expect(k.exitCode).not.toBe(0);
    expect(k.stderr).toMatch(/not running/);
    const del = await tsrun(root, ['delete', id]);
    expect(del.stderr).toBe('');
    expect(del.exitCode).toBe(0);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
  });

  it('a dead init whose pid now names another process: stopped, and neither kill nor delete --force touch that process', async () => {
    const root = makeRoot();
    const id = uniqueId('reused');
    const bundle = scriptBundle('sleep 1000');
    const { pid } = await mustCreateAndStart(root, bundle, id);
    process.kill(pid, 'SIGKILL');
    expect(await waitForDeath(pid)).not.toMatch(/^alive/);
    // Stand-in for pid reuse: point the record at a live host process that is not the init (same
    // recorded start time, so only the start-time check can tell them apart). state.json's `pid`
    // field is tsrun's own record (src/state/store.ts).
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const file = join(root, id, 'state.json');
      const record = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
      record.pid = bystander.pid!;
      writeFileSync(file, JSON.stringify(record));
      expect(await stateOf(root, id)).toMatchObject({ status: 'stopped', pid: 0 });
      const k = await tsrun(root, ['kill', id, 'KILL']);
      expect(k.exitCode).not.toBe(0);
      expect(k.stderr).toMatch(/not running/);
      expect((await tsrun(root, ['delete', '--force', id])).exitCode).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(procState(bystander.pid!)).toMatch(/^alive/);
      expect(bystander.exitCode).toBe(null);
      expect(rootEntries(root)).toEqual([]);
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('list (table and --format json) shows created, running and stopped containers with their status and pid', async () => {
    const root = makeRoot();
    const emptyTable = await tsrun(root, ['list']);
    expect(emptyTable.exitCode).toBe(0);
    expect(emptyTable.stdout.split('\n')[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    expect(emptyTable.stdout.trim().split('\n')).toHaveLength(1);
    const emptyJson = await tsrun(root, ['list', '--format', 'json']);
    expect(emptyJson.exitCode).toBe(0);
    expect(JSON.parse(emptyJson.stdout)).toEqual([]);

    const [idC, idR, idS] = [uniqueId('listc'), uniqueId('listr'), uniqueId('lists')];
    const bC = scriptBundle('sleep 1000');
    const bR = scriptBundle('sleep 1000');
    const bS = scriptBundle('sleep 1000');
    await mustCreate(root, bC, idC);
    const { pid: pidR } = await mustCreateAndStart(root, bR, idR);
    const { pid: pidS } = await mustCreateAndStart(root, bS, idS);
    const pidC = (await stateOf(root, idC)).pid;
    expect((await tsrun(root, ['kill', idS, 'KILL'])).exitCode).toBe(0);
    await waitForStatus(root, idS, 'stopped');
    expect(await waitForDeath(pidS)).not.toMatch(/^alive/);

    const table = await tsrun(root, ['list']);
    expect(table.stderr).toBe('');
    expect(table.exitCode).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    const byId = new Map(rows.slice(1).map((r) => { const f = r.split(/\s+/); return [f[0]!, f] as const; }));
    expect([...byId.keys()].sort()).toEqual([idC, idR, idS].sort());
    expect(byId.get(idC)!.slice(1, 4)).toEqual([String(pidC), 'created', bC.dir]);
    expect(byId.get(idR)!.slice(1, 4)).toEqual([String(pidR), 'running', bR.dir]);
    expect(byId.get(idS)!.slice(1, 4)).toEqual(['0', 'stopped', bS.dir]);

    const json = await tsrun(root, ['list', '--format', 'json']);
    expect(json.exitCode).toBe(0);
    const list = JSON.parse(json.stdout) as { id: string; status: string; pid: number; bundle: string }[];
    const summary = list.map((c) => ({ id: c.id, status: c.status, pid: c.pid, bundle: c.bundle })).sort((a, b) => a.id.localeCompare(b.id));
    expect(summary).toEqual([
      { id: idC, status: 'created', pid: pidC, bundle: bC.dir },
      { id: idR, status: 'running', pid: pidR, bundle: bR.dir },
      { id: idS, status: 'stopped', pid: 0, bundle: bS.dir },
    ].sort((a, b) => a.id.localeCompare(b.id)));
  });
});

describe.skipIf(skip !== undefined)(`lifecycle: run and run -d${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  it.each([0, 7, 255])('run exits with the container\'s exit code (%i) and leaves no state dir or cgroup behind', async (code) => {
    const root = makeRoot();
    const id = uniqueId('run');
    const bundle = scriptBundle(`echo "out $0"; echo err >&2; exit ${code}`);
    const r = await tsrun(root, ['run', '--bundle', bundle.dir, id]);
    expect(r.stdout).toBe(`out ${bundle.marker}\n`);
    expect(r.stderr).toBe('err\n');
    expect(r.exitCode).toBe(code);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
    const st = await tsrun(root, ['state', id]);
    expect(st.exitCode).not.toBe(0);
    expect(st.stderr).toMatch(/does not exist/);
  });

  it('run -d returns 0 at once with the container running, no tsrun process left behind; then kill + delete', async () => {
    const root = makeRoot();
    const id = uniqueId('detach');
    const bundle = scriptBundle('echo "ready $0"; sleep 1000');
    const pidFile = join(bundle.dir, 'run.pid');
    const r = await runDetachedIn(root, bundle, id, ['--pid-file', pidFile]);
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    // At once, not after the container's 1000 s: tsrunToFiles fails a tsrun that has not exited within 20 s.
    const st = await stateOf(root, id);
    expect(st).toMatchObject({ id, status: 'running', bundle: bundle.dir });
    expect(readFileSync(pidFile, 'utf8')).toBe(String(st.pid));
    expect(procState(st.pid)).toMatch(/^alive/);
    await waitForFile(r.stdoutFile, `ready ${bundle.marker}\n`);
    // No tsrun stays behind: nothing on the host has this test's root in its argv (tsrun's does).
    expect(processesMatching(root)).toEqual([]);
    expect(procState(r.pid)).not.toMatch(/^alive/);
    if (hasCgroup2) expect(v2CgroupOf(st.pid)).toBe(`/tsrun/${id}`);

    expect((await tsrun(root, ['kill', id, 'KILL'])).exitCode).toBe(0);
    expect(await waitForStatus(root, id, 'stopped')).toMatchObject({ pid: 0 });
    const del = await tsrun(root, ['delete', id]);
    expect(del.stderr).toBe('');
    expect(del.exitCode).toBe(0);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
    expect(processesMatching(bundle.marker)).toEqual([]);
  });
});
