// Issue 12, item 4: a pid file is never written through a symlink. `create`, `run -d` and `exec -d`
// write it to a fresh, unpredictable temp name (O_EXCL|O_NOFOLLOW) in the target's directory and
// rename that over the target: a symlink planted at the target is replaced, not followed, and a
// symlink planted at the name an older tsrun used for its temp file (`.<pid>.pid.tmp`) is ignored.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, REPO, TSRUN, type TestBundle } from '../../helpers/bundle.js';
import {
  cleanupLifecycle, makeRoot, runDetachedIn, scriptBundle, stateOf, tsrunToFiles, uniqueId, waitForFile,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const PRECIOUS = 'a host file nobody may overwrite\n';

/** A directory holding a "host file" and a symlink `link` → it, as an attacker would plant for a pid file. */
function plantedLink(): { dir: string; hostFile: string; link: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-pidfile-'));
  const hostFile = join(dir, 'host-file');
  writeFileSync(hostFile, PRECIOUS);
  const link = join(dir, 'pid');
  symlinkSync(hostFile, link);
  return { dir, hostFile, link, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The pid file is a regular file (not a link) holding a pid, and the host file is untouched. */
function expectReplacedLink(p: { hostFile: string; link: string }, pid?: number): void {
  expect(readFileSync(p.hostFile, 'utf8')).toBe(PRECIOUS);
  expect(lstatSync(p.link).isSymbolicLink()).toBe(false);
  expect(lstatSync(p.link).isFile()).toBe(true);
  const text = readFileSync(p.link, 'utf8');
  expect(text).toMatch(/^[1-9][0-9]*$/);
  if (pid !== undefined) expect(Number(text)).toBe(pid);
  expect(lstatSync(p.link).mode & 0o777).toBe(0o644 & ~process.umask());
}

/** Files of dir other than those named: temp files a pid-file writer left behind. */
function strayFiles(dir: string, known: readonly string[]): string[] {
  return readdirSync(dir).filter((n) => !known.includes(n));
}

describe.skipIf(skip !== undefined)(`security: pid files${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  const cleanups: (() => void)[] = [];
  afterEach(() => { for (const c of cleanups.splice(0)) c(); });

  function planted(): ReturnType<typeof plantedLink> {
    const p = plantedLink();
    cleanups.push(p.cleanup);
    return p;
  }

  async function runningContainer(): Promise<{ root: string; id: string; pid: number; bundle: TestBundle }> {
    const root = makeRoot();
    const id = uniqueId('pidf');
    const bundle = scriptBundle('echo "up $0"; exec sleep 1000');
    const r = await runDetachedIn(root, bundle, id);
    if (r.exitCode !== 0) throw new Error(`run -d failed: ${r.stderr()}`);
    await waitForFile(r.stdoutFile, 'up ');
    return { root, id, pid: (await stateOf(root, id)).pid, bundle };
  }

  it('create --pid-file LINK replaces the symlink with the pid file; the file it pointed to is untouched', async () => {
    const p = planted();
    const root = makeRoot();
    const id = uniqueId('pidf-create');
    const bundle = scriptBundle('exec sleep 1000');
    const r = await tsrunToFiles(root, ['create', '--pid-file', p.link, '--bundle', bundle.dir, id], bundle.dir);
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    expectReplacedLink(p, (await stateOf(root, id)).pid);
    expect(strayFiles(p.dir, ['host-file', 'pid'])).toEqual([]);
  });

  it('run -d --pid-file LINK replaces the symlink; the file it pointed to is untouched', async () => {
    const p = planted();
    const root = makeRoot();
    const id = uniqueId('pidf-run');
    const bundle = scriptBundle('exec sleep 1000');
    const r = await runDetachedIn(root, bundle, id, ['--pid-file', p.link]);
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    expectReplacedLink(p, (await stateOf(root, id)).pid);
    expect(strayFiles(p.dir, ['host-file', 'pid'])).toEqual([]);
  });

  it('exec -d --pid-file LINK replaces the symlink; the file it pointed to is untouched', async () => {
    const { root, id, bundle } = await runningContainer();
    const p = planted();
    const r = await tsrunToFiles(root, ['exec', '-d', '--pid-file', p.link, id, 'sleep', '999'], bundle.dir);
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    expectReplacedLink(p);
    const execPid = Number(readFileSync(p.link, 'utf8'));
    expect(readFileSync(`/proc/${execPid}/cmdline`, 'utf8')).toBe('sleep\x00999\x00');
    expect(strayFiles(p.dir, ['host-file', 'pid'])).toEqual([]);
  });

  it('exec --pid-file to a dangling symlink does not create the file it names', async () => {
    const { root, id, bundle } = await runningContainer();
    const p = planted();
    const target = join(p.dir, 'made-through-the-link');
    rmSync(p.link);
    symlinkSync(target, p.link);
    const r = await tsrunToFiles(root, ['exec', '-d', '--pid-file', p.link, id, 'sleep', '998'], bundle.dir);
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    expect(existsSync(target)).toBe(false);
    expect(lstatSync(p.link).isFile()).toBe(true);
  });

  // The old writer used `<dir>/.<tsrun's pid>.pid.tmp` without O_EXCL: a dangling symlink planted
  // there had it create (and write) the file the symlink names. `exec` keeps the shell's pid, so the
  // planted name is exactly the one tsrun would have used.
  for (const cmd of ['create', 'run -d'] as const) {
    it(`${cmd} --pid-file D/pid: a dangling symlink at the old temp name D/.<pid>.pid.tmp is not followed`, async () => {
      const p = planted();
      rmSync(p.link);
      const root = makeRoot();
      const id = uniqueId('pidf-tmp');
      const bundle = scriptBundle('exec sleep 1000');
      const target = join(p.dir, 'made-through-the-temp-link');
      const err = join(bundle.dir, 'stderr');
      const errFd = openSync(err, 'w');
      const script = `ln -s "$1" "$2/.$$.pid.tmp" && exec node "$3" --root "$4" ${cmd} --pid-file "$2/pid" --bundle "$5" "$6"`;
      const child = spawn('sh', ['-c', script, 'sh', target, p.dir, TSRUN, root, bundle.dir, id], { cwd: REPO, stdio: ['ignore', 'ignore', errFd] });
      closeSync(errFd);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(readFileSync(err, 'utf8')).toBe('');
      expect(code).toBe(0);
      expect(existsSync(target)).toBe(false);
      expect(lstatSync(join(p.dir, 'pid')).isFile()).toBe(true);
      expect(Number(readFileSync(join(p.dir, 'pid'), 'utf8'))).toBe((await stateOf(root, id)).pid);
      // Only what the test planted is left next to the pid file.
      expect(strayFiles(p.dir, ['host-file', 'pid']).map((n) => n.replace(/^\.[0-9]+\./, '.PID.'))).toEqual(['.PID.pid.tmp']);
    });
  }

  it('a pid file in a missing directory is a one-line error naming the file, and the container is gone', async () => {
    const root = makeRoot();
    const id = uniqueId('pidf-missing');
    const bundle = scriptBundle('exec sleep 1000');
    const file = join(bundle.dir, 'no-such-dir', 'pid');
    const r = await tsrunToFiles(root, ['create', '--pid-file', file, '--bundle', bundle.dir, id], bundle.dir);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr()).toMatch(new RegExp(`^tsrun: cannot write the pid file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ENOENT.*\n$`));
    expect(existsSync(join(root, id))).toBe(false);
  });
});
