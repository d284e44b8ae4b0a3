// A config without a mount namespace (the suite's linux_ns_itype): its mounts go into the caller's
// mount table, and tsrun removes exactly the ones it made — after `run`, on `delete`, after a failed
// `create` — never a mount of the user's under the rootfs. Each test plays the caller in a private
// mount namespace of its own (`unshare -m`, held by a sleep), so the host's table never changes; the
// last test makes the rootfs's mount shared and checks that peer and slave namespaces get the mounts
// and lose them again. `exec` into such a container enters the init's root (a chroot, which joining
// namespaces does not give).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import type { Spec } from '../../../src/oci/types.js';
import { REPO, TSRUN, cannotRunContainers, containerTestHooks, poll, waitForBuild } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, rootEntries, scriptBundle, uniqueId } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();

/** The suite's change: every namespace inherited from the caller, no hostname (and, as its config has, no masked or read-only paths: they need a mount namespace). */
function noNamespaces(spec: Spec): void {
  spec.linux!.namespaces = [];
  delete spec.hostname;
  delete spec.linux!.maskedPaths;
  delete spec.linux!.readonlyPaths;
}

const holders: number[] = [];
const emptyDirs: string[] = [];

/** Starts `sh -c SCRIPT` (which must end in `exec sleep`) under `prefix` and waits for the sleep. */
async function hold(prefix: string[], script: string, args: string[] = []): Promise<number> {
  const child = spawn(prefix[0]!, [...prefix.slice(1), 'sh', '-c', script, 'sh', ...args], { stdio: 'ignore' });
  const pid = child.pid!;
  holders.push(pid);
  await poll(() => {
    try { return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n' ? true : undefined; } catch { return undefined; }
  }, 5_000, `namespace holder ${pid}`);
  return pid;
}

/** The sample's namespaces less the mount namespace: pid, network, ipc and uts stay. */
function noMountNamespace(spec: Spec): void {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
  delete spec.linux!.maskedPaths;
  delete spec.linux!.readonlyPaths;
}

/** A private mount namespace (a copy of the host's), where `script` runs first. */
const privateNamespace = (script = '', args: string[] = []): Promise<number> =>
  hold(['unshare', '-m', '--propagation', 'private'], `${script}\nexec sleep 300`, args);

/** Mount points at or under `path` in the mount namespace of `pid`, with their ids. */
function mountsUnder(pid: number, path: string): { id: number; path: string }[] {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '))
    .map((f) => ({ id: Number(f[0]), path: f[4]!.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))) }))
    .filter((m) => m.path === path || m.path.startsWith(`${path}/`));
}

interface Result { exitCode: number | null; stdout: string; stderr: string }

/** `tsrun --root ROOT …args` in the mount namespace of `pid`, stdio in files (a created container keeps them). */
async function tsrunIn(pid: number, root: string, args: string[], outDir: string): Promise<Result> {
  await waitForBuild();
  const name = `${args[0]}-${Math.random().toString(36).slice(2, 8)}`;
  const [outFile, errFile] = [join(outDir, `${name}.out`), join(outDir, `${name}.err`)];
  const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
  const child = spawn('nsenter', ['-t', String(pid), '-m', '--', 'node', TSRUN, '--root', root, ...args], { cwd: REPO, stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { exitCode, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
}

const WARNING = /warning: linux.namespaces has no mount namespace: the container's mounts go into the caller's mount table, under .*; `tsrun delete` .* removes exactly those/;

describe.skipIf(skip !== undefined)(`no mount namespace: mounts in the caller's table, removed by tsrun${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  afterEach(() => {
    // Killing a holder ends its namespace, and with it anything a failed test left mounted there.
    for (const pid of holders.splice(0)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const d of emptyDirs.splice(0)) { try { rmdirSync(d); } catch { /* reported by the test */ } }
  });

  it('run: the container shares the caller\'s mount namespace and sees /proc mounted; nothing is left under the rootfs after it exits', async () => {
    const ns = await privateNamespace();
    const bundle = scriptBundle('readlink /proc/self/ns/mnt; grep -q "^proc /proc proc" /proc/mounts && echo "proc mounted"; test -c /dev/pts/ptmx && echo devpts', noNamespaces);
    await waitForBuild();
    const r = await execa('nsenter', ['-t', String(ns), '-m', '--', 'node', TSRUN, '--root', makeRoot(), 'run', '--bundle', bundle.dir], { reject: false, cwd: REPO, stdin: 'ignore' });
    expect(r.stderr).toMatch(WARNING);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([readlinkSync(`/proc/${ns}/ns/mnt`), 'proc mounted', 'devpts']);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
  });

  it('create puts the mounts in the caller\'s table; delete removes them all, and not the user\'s own mount under the rootfs', async () => {
    const bundle = scriptBundle('sleep 1000', (spec) => {
      noNamespaces(spec);
      // One mount on top of the user's: it goes, the user's stays.
      spec.mounts!.push({ destination: '/mnt/user/inner', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    });
    const userMount = join(bundle.rootfs, 'mnt/user');
    const ns = await privateNamespace('mkdir -p "$1" && mount -t tmpfs usermnt "$1"', [userMount]);
    const [before] = mountsUnder(ns, bundle.rootfs);
    expect(before?.path).toBe(userMount);
    const root = makeRoot();
    const id = uniqueId('callermnt');
    const c = await tsrunIn(ns, root, ['create', '--bundle', bundle.dir, id], bundle.dir);
    expect(c.exitCode).toBe(0);
    expect(c.stderr).toMatch(WARNING);
    const during = mountsUnder(ns, bundle.rootfs).map((m) => m.path);
    for (const p of ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/mnt/user/inner']) {
      expect(during).toContain(join(bundle.rootfs, p));
    }
    const record = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { callerMounts: { before: unknown[]; created: unknown[] } };
    expect(record.callerMounts.before).toEqual([before]);
    expect(record.callerMounts.created).toHaveLength(during.length - 1);
    const d = await tsrunIn(ns, root, ['delete', '--force', id], bundle.dir);
    expect(d.stderr).toBe('');
    expect(d.exitCode).toBe(0);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([before]);
    expect(rootEntries(root)).toEqual([]);
  });

  it('a failed create removes the mounts it made before the failing step', async () => {
    const ns = await privateNamespace();
    const bundle = scriptBundle('true', (spec) => {
      noNamespaces(spec);
      spec.mounts!.push({ destination: '/data', type: 'nosuchfs', source: 'none' });
    });
    const root = makeRoot();
    const c = await tsrunIn(ns, root, ['create', '--bundle', bundle.dir, uniqueId('callerfail')], bundle.dir);
    expect(c.exitCode).not.toBe(0);
    expect(c.stderr).toMatch(/mount nosuchfs none on \/data \(step \d+, mounts\[7\]\): ENODEV/);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
    expect(rootEntries(root)).toEqual([]);
  });

  /** A running container (sleeping init, process.cwd /etc) with a file only its rootfs has; started in a private mount namespace. */
  async function runningWithoutMountNamespace(mutate: (spec: Spec) => void): Promise<{ ns: number; root: string; id: string; bundle: ReturnType<typeof scriptBundle> }> {
    const bundle = scriptBundle('sleep 1000', (spec) => { mutate(spec); spec.process!.cwd = '/etc'; });
    writeFileSync(join(bundle.rootfs, 'etc/tsrun-exec-marker'), `${bundle.marker}\n`);
    const ns = await privateNamespace();
    const root = makeRoot();
    const id = uniqueId('callerexec');
    const r = await tsrunIn(ns, root, ['run', '-d', '--bundle', bundle.dir, id], bundle.dir);
    expect(r.stderr).toMatch(WARNING);
    expect(r.exitCode).toBe(0);
    return { ns, root, id, bundle };
  }

  const rootListing = (rootfs: string): string[] => readdirSync(rootfs).filter((n) => !n.startsWith('.')).sort();

  it.each([
    ['pid, network, ipc and uts namespaces', noMountNamespace],
    ['no namespaces at all', noNamespaces],
  ])('exec (%s) sees the container\'s rootfs as /, starts in process.cwd, and drops privileges after entering it', async (_what, mutate) => {
    const { ns, root, id, bundle } = await runningWithoutMountNamespace(mutate);
    const a = await tsrunIn(ns, root, ['exec', id, 'sh', '-c', 'cat /etc/tsrun-exec-marker && pwd && ls /'], bundle.dir);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(a.stdout.trim().split('\n')).toEqual([bundle.marker, '/etc', ...rootListing(bundle.rootfs)]);
    // The user switch comes after the chroot (an unprivileged process could not chroot); --cwd applies inside the rootfs.
    const b = await tsrunIn(ns, root, ['exec', '--user', '1000:1000', '--cwd', '/tmp', id, 'sh', '-c', 'id -u && pwd && cat /etc/tsrun-exec-marker'], bundle.dir);
    expect(b.stderr).toBe('');
    expect(b.exitCode).toBe(0);
    expect(b.stdout).toBe(`1000\n/tmp\n${bundle.marker}\n`);
    const d = await tsrunIn(ns, root, ['delete', '--force', id], bundle.dir);
    expect(d.exitCode).toBe(0);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
  });

  it('exec enters the init\'s root, not whatever the rootfs path names now', async () => {
    const { ns, root, id, bundle } = await runningWithoutMountNamespace(noMountNamespace);
    // Another directory at the rootfs's path after create: the container's root is still the old one.
    const moved = `${bundle.rootfs}.moved`;
    renameSync(bundle.rootfs, moved);
    mkdirSync(bundle.rootfs);
    try {
      const r = await tsrunIn(ns, root, ['exec', id, 'cat', '/etc/tsrun-exec-marker'], bundle.dir);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`${bundle.marker}\n`);
    } finally {
      rmdirSync(bundle.rootfs);
      renameSync(moved, bundle.rootfs);
    }
    const d = await tsrunIn(ns, root, ['delete', '--force', id], bundle.dir);
    expect(d.exitCode).toBe(0);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
  });

  it('under a shared mount the mounts propagate to peer and slave namespaces, and so does their removal', async () => {
    const source = scriptBundle('sleep 1000', noNamespaces);
    // The bundle is copied into a shared tmpfs that exists only in the caller's namespace.
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-it-shared-'));
    emptyDirs.push(dir);
    const ns = await privateNamespace('mount -t tmpfs tmpfs "$1" && mount --make-shared "$1" && cp -a "$2/." "$1/"', [dir, source.dir]);
    const inCaller = ['nsenter', '-t', String(ns), '-m', '--', 'unshare', '-m', '--propagation', 'unchanged'];
    const peer = await hold(inCaller, 'exec sleep 300');
    const slave = await hold(inCaller, 'mount --make-rslave "$1" && exec sleep 300', [dir]);
    const rootfs = join(dir, 'rootfs');
    const root = makeRoot();
    const id = uniqueId('callershared');
    const c = await tsrunIn(ns, root, ['create', '--bundle', dir, id], source.dir);
    expect(c.exitCode).toBe(0);
    const made = mountsUnder(ns, rootfs).length;
    expect(made).toBeGreaterThanOrEqual(7); // proc, /dev and its 3 mounts, sys, its cgroup2
    expect(mountsUnder(peer, rootfs)).toHaveLength(made);
    expect(mountsUnder(slave, rootfs)).toHaveLength(made);
    const d = await tsrunIn(ns, root, ['delete', '--force', id], source.dir);
    expect(d.exitCode).toBe(0);
    for (const pid of [ns, peer, slave]) expect(mountsUnder(pid, rootfs)).toEqual([]);
    expect(mountsUnder(ns, dir)).toHaveLength(1); // the shared tmpfs itself is the user's
  });
});
