// Every lifecycle error: a non-zero exit, a message on stderr (one JSON record with --log-format
// json), nothing on stdout, and no effect: unknown ids, a duplicate id, start/kill/delete in the wrong
// state, and ids that could name something other than a container directory.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, processesMatching, type RunResult } from '../../helpers/bundle.js';
import {
  cgroup2Mount, cleanupLifecycle, createIn, defaultCgroupDir, makeRoot, mustCreate, mustCreateAndStart, parseJsonLines, procState,
  rootEntries, runDetachedIn, scriptBundle, stateOf, tsrun, tsrunJson, uniqueId, waitForFile, waitForStatus,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const hasCgroup2 = cgroup2Mount() !== undefined;

/** A failure reported as text: non-zero, nothing on stdout, `tsrun: <message>` on stderr. */
function expectTextError(r: RunResult, message: RegExp): void {
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^tsrun: /);
  expect(r.stderr).toMatch(message);
  expect(r.exitCode).not.toBe(0);
  expect(r.exitCode).not.toBe(undefined);
}

/** The same failure with --log-format json: exactly one JSON line on stderr, level error, msg matching. */
function expectJsonError(r: RunResult, message: RegExp): void {
  expect(r.stdout).toBe('');
  const lines = parseJsonLines(r.stderr) as { level?: string; msg?: string }[];
  expect(lines).toHaveLength(1);
  expect(lines[0]!.level).toBe('error');
  expect(lines[0]!.msg).toMatch(message);
  expect(r.exitCode).not.toBe(0);
  expect(r.exitCode).not.toBe(undefined);
}

async function expectBoth(root: string, args: string[], message: RegExp): Promise<void> {
  expectTextError(await tsrun(root, args), message);
  expectJsonError(await tsrunJson(root, args), message);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(skip !== undefined)(`lifecycle errors${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle); // registered last, so it runs first

  it.each([
    [['state']], [['start']], [['kill']], [['kill', '--all']], [['delete']],
  ])('%j of an unknown id fails with "does not exist" and creates nothing', async (cmd) => {
    const root = makeRoot();
    const id = uniqueId('unknown');
    await expectBoth(root, [...cmd, id], new RegExp(`container ${id} does not exist`));
    expect(rootEntries(root)).toEqual([]);
  });

  it('delete --force of an unknown id succeeds quietly, as runc and crun do (podman relies on it)', async () => {
    const root = makeRoot();
    const r = await tsrun(root, ['delete', '--force', uniqueId('unknown')]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(rootEntries(root)).toEqual([]);
  });

  it('kill SIGNAL of an unknown id fails with "does not exist"', async () => {
    const root = makeRoot();
    const id = uniqueId('unknown');
    await expectBoth(root, ['kill', id, 'KILL'], new RegExp(`container ${id} does not exist`));
  });

  it('create with an id in use fails ("already exists") and leaves the first container as it was', async () => {
    const root = makeRoot();
    const id = uniqueId('dup');
    const first = scriptBundle('echo "first $0"; sleep 1000');
    const second = scriptBundle('echo "second $0"; sleep 1000');
    const c1 = await mustCreate(root, first, id);
    const before = await stateOf(root, id);

    const dup = await createIn(root, second, id);
    expect(dup.stdout()).toBe('');
    expect(dup.stderr()).toMatch(new RegExp(`^tsrun: .*container ${id} already exists`));
    expect(dup.exitCode).not.toBe(0);
    const dupJson = await tsrunJson(root, ['create', '--bundle', second.dir, id]);
    expectJsonError(dupJson, new RegExp(`container ${id} already exists`));

    // The first container: same record, same live init, still in its cgroup, and it still starts.
    expect(await stateOf(root, id)).toEqual(before);
    expect(before.status).toBe('created');
    expect(procState(before.pid)).toMatch(/^alive/);
    if (hasCgroup2) {
      expect(readFileSync(join(defaultCgroupDir(id), 'cgroup.procs'), 'utf8').split('\n')).toContain(String(before.pid));
    }
    expect(processesMatching(second.marker)).toEqual([]);
    expect((await tsrun(root, ['start', id])).exitCode).toBe(0);
    await waitForFile(c1.stdoutFile, `first ${first.marker}\n`);
    expect(await stateOf(root, id)).toMatchObject({ status: 'running', pid: before.pid, bundle: first.dir });
    expect(processesMatching(second.marker)).toEqual([]);
  });

  it('start of a running container fails and does not disturb it', async () => {
    const root = makeRoot();
    const id = uniqueId('startrun');
    const bundle = scriptBundle('echo "started $0"; sleep 1000');
    const { pid, created } = await mustCreateAndStart(root, bundle, id);
    await waitForFile(created.stdoutFile, 'started');
    await expectBoth(root, ['start', id], /container .*: cannot start an already running container/);
    await new Promise((r) => setTimeout(r, 100));
    expect(created.stdout()).toBe(`started ${bundle.marker}\n`);
    expect(await stateOf(root, id)).toMatchObject({ status: 'running', pid });
  });

  it('start of a stopped container fails', async () => {
    const root = makeRoot();
    const id = uniqueId('startstopped');
    const bundle = scriptBundle('sleep 1000');
    await mustCreateAndStart(root, bundle, id);
    expect((await tsrun(root, ['kill', id, 'KILL'])).exitCode).toBe(0);
    await waitForStatus(root, id, 'stopped');
    await expectBoth(root, ['start', id], /container .*: cannot start a container that has stopped/);
    expect(await stateOf(root, id)).toMatchObject({ status: 'stopped', pid: 0 });
  });

  it('delete without --force of a created container kills and removes it, as runc does (containerd\'s shim deletes without --force)', async () => {
    const root = makeRoot();
    const id = uniqueId('delcreated');
    const bundle = scriptBundle('echo "started $0"; sleep 1000');
    const c = await mustCreate(root, bundle, id);
    const before = await stateOf(root, id);
    const r = await tsrun(root, ['delete', id]);
    expect({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    expect(procState(before.pid)).not.toMatch(/^alive/);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
    // Its process never ran.
    expect(c.stdout()).toBe('');
  });

  it('delete without --force of a running container fails and leaves it running', async () => {
    const root = makeRoot();
    const id = uniqueId('delrunning');
    const bundle = scriptBundle('exec sleep 1000');
    const { pid } = await mustCreateAndStart(root, bundle, id);
    await expectBoth(root, ['delete', id], /cannot delete container .* that is not stopped: running/);
    await new Promise((r) => setTimeout(r, 100));
    expect(await stateOf(root, id)).toMatchObject({ status: 'running', pid });
    expect(procState(pid)).toMatch(/^alive/);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\x001000\x00');
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(true);
  });

  it('kill of a stopped container fails ("not running")', async () => {
    const root = makeRoot();
    const id = uniqueId('killstopped');
    const bundle = scriptBundle('sleep 1000');
    await mustCreateAndStart(root, bundle, id);
    expect((await tsrun(root, ['kill', id, 'KILL'])).exitCode).toBe(0);
    await waitForStatus(root, id, 'stopped');
    await expectBoth(root, ['kill', id, 'KILL'], /cannot kill container .*: container not running/);
    await expectBoth(root, ['kill', id], /container not running/);
  });

  it('create whose set-up fails inside the init (mount of an unknown fs type) fails naming the step; nothing is left', async () => {
    const root = makeRoot();
    const id = uniqueId('setupfail');
    const bundle = scriptBundle('echo "started $0"; sleep 1000', (spec) => {
      spec.mounts!.push({ destination: '/mnt/x', type: 'nosuchfs', source: 'none' });
    });
    const r = await createIn(root, bundle, id);
    expect(r.stdout()).toBe('');
    expect(r.stderr()).toMatch(/^tsrun: mount nosuchfs none on \/mnt\/x .*mounts\[\d+\].*ENODEV/);
    expect(r.exitCode).not.toBe(0);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
    expect(processesMatching(bundle.marker)).toEqual([]);
    expect(processesMatching(root)).toEqual([]);
    expectJsonError(await tsrunJson(root, ['create', '--bundle', bundle.dir, id]), /ENODEV/);
    expect(rootEntries(root)).toEqual([]);
  });

  // runc's init looks the program up before it waits on the exec fifo, so a missing program is a
  // create-time error ("exec: ...: no such file or directory") and `start` never has to report it.
  it('create of a bundle whose process.args[0] does not exist fails at create, naming it; nothing is left', async () => {
    const root = makeRoot();
    const id = uniqueId('noprog');
    const bundle = scriptBundle('unused', (spec) => { spec.process!.args = ['/no-such-program']; });
    const r = await createIn(root, bundle, id);
    expect(r.stdout()).toBe('');
    expect(r.stderr()).toMatch(/^tsrun: .*no-such-program/);
    expect(r.exitCode).not.toBe(0);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
  });

  it('run -d of a bundle whose process.args[0] does not exist fails (non-zero, naming it); nothing is left', async () => {
    const root = makeRoot();
    const id = uniqueId('noprogd');
    const bundle = scriptBundle('unused', (spec) => { spec.process!.args = ['/no-such-program']; });
    const r = await runDetachedIn(root, bundle, id);
    expect(r.stderr()).toMatch(/no-such-program/);
    expect(r.exitCode).not.toBe(0);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
  });

  it('run (foreground) of a missing program fails naming it, and leaves no state dir or cgroup', async () => {
    const root = makeRoot();
    const id = uniqueId('noprogfg');
    const bundle = scriptBundle('unused', (spec) => { spec.process!.args = ['/no-such-program']; });
    const r = await tsrun(root, ['run', '--bundle', bundle.dir, id]);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^tsrun: find "\/no-such-program" in the container .*\(step \d+, process\.args\): ENOENT/);
    expect(r.exitCode).not.toBe(0);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
  });

  it('create with --pid-file in a directory that does not exist fails with a one-line message naming it; nothing is left', async () => {
    const root = makeRoot();
    const id = uniqueId('pidfile');
    const bundle = scriptBundle('echo "started $0"; sleep 1000');
    const pidFile = join(bundle.dir, 'no-such-dir', 'x.pid');
    const r = await createIn(root, bundle, id, ['--pid-file', pidFile]);
    expect(r.stdout()).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr()).toMatch(new RegExp(`^tsrun: .*${escape(join(bundle.dir, 'no-such-dir'))}`));
    // A message, not a JavaScript stack trace.
    expect(r.stderr()).not.toMatch(/\n\s+at /);
    expect(r.stderr().trimEnd().split('\n')).toHaveLength(1);
    expect(rootEntries(root)).toEqual([]);
    if (hasCgroup2) expect(existsSync(defaultCgroupDir(id))).toBe(false);
    expect(processesMatching(root)).toEqual([]);
  });

  it.each(['FOO', 'SIGFOO', '99'])('kill with an unknown signal %s fails ("unknown signal") and the container keeps running', async (sig) => {
    const root = makeRoot();
    const id = uniqueId('badsig');
    const bundle = scriptBundle('exec sleep 1000');
    const { pid } = await mustCreateAndStart(root, bundle, id);
    await expectBoth(root, ['kill', id, '--', sig], new RegExp(`unknown signal ${sig}`));
    expect(await stateOf(root, id)).toMatchObject({ status: 'running', pid });
  });

  const invalidIds: [string, string][] = [['a/b', 'a/b'], ['..', '..'], ['-x', '-x'], ['2000 chars', 'x'.repeat(2000)], ['a/../b', 'a/../b']];

  it.each(invalidIds)('create refuses the invalid id %s ("invalid container id") and creates nothing', async (_name, id) => {
    const root = makeRoot();
    const bundle = scriptBundle('echo "started $0"; sleep 1000');
    // `--` so that `-x` reaches tsrun as the id rather than as an option.
    const r = await tsrun(root, ['create', '--bundle', bundle.dir, '--', id]);
    // A long id is quoted by its first 40 characters.
    expectTextError(r, new RegExp(`invalid container id "${escape(id.slice(0, 40))}`));
    expectJsonError(await tsrunJson(root, ['create', '--bundle', bundle.dir, '--', id]), /invalid container id/);
    expect(rootEntries(root)).toEqual([]);
    expect(readFileSync(join(dirname(root), 'canary'), 'utf8')).toBe('still here\n');
    expect(processesMatching(bundle.marker)).toEqual([]);
  });

  it('create -x (without --) is a usage error that creates nothing', async () => {
    const root = makeRoot();
    const bundle = scriptBundle('sleep 1000');
    await expectBoth(root, ['create', '--bundle', bundle.dir, '-x'], /-x/);
    expect(rootEntries(root)).toEqual([]);
  });

  it('run refuses an invalid id and creates nothing', async () => {
    const root = makeRoot();
    const bundle = scriptBundle('echo "started $0"');
    const r = await tsrun(root, ['run', '--bundle', bundle.dir, '--', 'a/b']);
    expectTextError(r, /invalid container id "a\/b"/);
    expect(rootEntries(root)).toEqual([]);
  });

  it.each([
    ['state', '..'], ['start', '..'], ['kill', '..'], ['delete', '..'], ['delete --force', '..'],
    ['state', 'a/b'], ['start', 'a/b'], ['kill', 'a/b'], ['delete', 'a/b'], ['delete --force', 'a/b'],
  ])('%s %s fails with "invalid container id" and touches nothing outside the root', async (cmd, id) => {
    const root = makeRoot();
    await expectBoth(root, [...cmd.split(' '), id], new RegExp(`invalid container id "${escape(id)}"`));
    expect(existsSync(root)).toBe(true);
    expect(readFileSync(join(dirname(root), 'canary'), 'utf8')).toBe('still here\n');
  });
});
