// Issue 12, item 3: what a config without a private mount namespace can do to the caller's mount
// table. Without one, tsrun mounts in the caller's table (runc does too), so:
//   - linux.maskedPaths / linux.readonlyPaths are applied after chroot, where /proc/<pid>/root/… of a
//     host process names the host's files: they would mask a host file or make a host directory
//     read-only, and `delete` (which removes only mounts under the rootfs) would leave them;
//   - joining the caller's own mount namespace by path is "no mount namespace" in disguise, but
//     tsrun would then treat it as the container's: make `/` a slave, pivot_root — the caller's whole
//     namespace moves into the rootfs;
//   - a `remount` in mounts[].options changes a mount tsrun did not make, which delete cannot undo.
// All are refused before anything is created, naming the field. Every attack runs in a throwaway
// mount namespace (`unshare -m --propagation private`) that plays the caller, and is aimed at a
// file the test makes, so the old code's damage lands only there; afterEach unmounts what it left,
// by exact path, and ends the namespace. Mount destinations that try to leave the rootfs
// (`..`, symlinks in the image, magic links) stay inside it (resolved one component at a time with
// openat2 RESOLVE_IN_ROOT, a link's text read and resolved again inside the rootfs) — kept as a test.
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, rootEntries, scriptBundle, uniqueId } from '../../helpers/lifecycle.js';
import { killHolders, lines, mountsUnder, privateMountNamespace, runIn, tsrunIn } from './support.js';

const skip = cannotRunContainers();

/** The config shares the caller's mount and pid namespaces, so /proc/<pid> names the caller's processes. */
function sharedMountAndPid(spec: Spec): void {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'mount' && n.type !== 'pid');
  delete spec.linux!.maskedPaths;
  delete spec.linux!.readonlyPaths;
}

/** Throwaway targets on the host's filesystem, and the namespaces that may hold mounts on them. */
const targets: { ns: number; path: string }[] = [];
const tmpDirs: string[] = [];

function targetDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-mask-target-'));
  tmpDirs.push(dir);
  writeFileSync(join(dir, 'file'), 'the caller\'s file\n');
  mkdirSync(join(dir, 'dir'));
  return dir;
}

describe.skipIf(skip !== undefined)(`a config cannot change the caller's mount table beyond the rootfs${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  afterEach(async () => {
    // What the old code left: unmount it where it landed, by exact path, then end the namespaces.
    for (const { ns, path } of targets.splice(0)) {
      for (let i = 0; i < 4 && mountsUnder(ns, path).length > 0; i++) await runIn(ns, ['-m'], ['umount', '-l', path]);
    }
    killHolders();
    for (const d of tmpDirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it.each([
    ['linux.maskedPaths', 'file'],
    ['linux.readonlyPaths', 'dir'],
  ] as const)('%s naming a host path through /proc/<pid>/root is refused without a mount namespace; the host path is untouched', async (field, what) => {
    const dir = targetDir();
    const ns = await privateMountNamespace();
    const target = join(dir, what);
    targets.push({ ns, path: target });
    const bundle = scriptBundle('sleep 1000', (spec) => {
      sharedMountAndPid(spec);
      const list = [`/proc/${ns}/root${target}`];
      if (field === 'linux.maskedPaths') spec.linux!.maskedPaths = list; else spec.linux!.readonlyPaths = list;
    });
    const root = makeRoot();
    const r = await tsrunIn(ns, ['-m'], root, ['create', '--bundle', bundle.dir, uniqueId('mask')], bundle.dir);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^tsrun: ${field.replace('.', '\\.')}: .*needs a private mount namespace`))]);
    expect(r.exitCode).not.toBe(0);
    // Seen from the caller's namespace: no mount on the target, the file reads, the directory takes writes.
    expect(mountsUnder(ns, dir)).toEqual([]);
    expect(readFileSync(`/proc/${ns}/root${dir}/file`, 'utf8')).toBe('the caller\'s file\n');
    expect((await runIn(ns, ['-m'], ['touch', join(dir, 'dir', 'new')])).exitCode).toBe(0);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
    expect(rootEntries(root)).toEqual([]);
  });

  it('masked and read-only paths are still applied with a mount namespace (inside it only)', async () => {
    const ns = await privateMountNamespace();
    const bundle = scriptBundle('sleep 1000', (spec) => {
      spec.linux!.maskedPaths = ['/proc/kcore'];
      spec.linux!.readonlyPaths = ['/proc/sys'];
    });
    const root = makeRoot();
    const id = uniqueId('maskok');
    const c = await tsrunIn(ns, ['-m'], root, ['create', '--bundle', bundle.dir, id], bundle.dir);
    expect(c.stderr).toBe('');
    expect(c.exitCode).toBe(0);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
    const d = await tsrunIn(ns, ['-m'], root, ['delete', '--force', id], bundle.dir);
    expect(d.exitCode).toBe(0);
  });

  it.each([
    ['/proc/self/ns/mnt'],
    ['/proc/<holder>/ns/mnt'],
  ])('joining the caller\'s own mount namespace by path (%s) is refused: the caller\'s root is not pivoted', async (nsPath) => {
    const ns = await privateMountNamespace();
    const rootBefore = readlinkSync(`/proc/${ns}/root`);
    const tableBefore = readFileSync(`/proc/${ns}/mountinfo`, 'utf8');
    const bundle = scriptBundle('sleep 1000', (spec) => {
      const others = spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
      spec.linux!.namespaces = [...others, { type: 'mount', path: nsPath.replace('<holder>', String(ns)) }];
    });
    const root = makeRoot();
    const r = await tsrunIn(ns, ['-m'], root, ['create', '--bundle', bundle.dir, uniqueId('joinmnt')], bundle.dir);
    const index = bundle.spec.linux!.namespaces!.length - 1;
    expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^tsrun: linux\\.namespaces\\[${index}\\]\\.path: .*the caller's own mount namespace`))]);
    expect(r.exitCode).not.toBe(0);
    expect(readlinkSync(`/proc/${ns}/root`)).toBe(rootBefore);
    expect(readFileSync(`/proc/${ns}/mountinfo`, 'utf8')).toBe(tableBefore);
    expect(rootEntries(root)).toEqual([]);
  });

  it('a remount in mounts[].options is refused without a mount namespace: the user\'s own mount under the rootfs keeps its flags', async () => {
    const bundle = scriptBundle('sleep 1000', (spec) => {
      sharedMountAndPid(spec);
      spec.mounts!.push({ destination: '/mnt/user', type: 'tmpfs', source: 'tmpfs', options: ['remount', 'ro'] });
    });
    const userMount = join(bundle.rootfs, 'mnt/user');
    const ns = await privateMountNamespace('mkdir -p "$1" && mount -t tmpfs usermnt "$1"', [userMount]);
    targets.push({ ns, path: userMount });
    const root = makeRoot();
    const r = await tsrunIn(ns, ['-m'], root, ['create', '--bundle', bundle.dir, uniqueId('remount')], bundle.dir);
    const index = bundle.spec.mounts!.length - 1;
    expect(lines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^tsrun: mounts\\[${index}\\]\\.options: .*remount.*needs a private mount namespace`))]);
    expect(r.exitCode).not.toBe(0);
    expect((await runIn(ns, ['-m'], ['touch', join(userMount, 'still-writable')])).exitCode).toBe(0);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([userMount]);
    expect(rootEntries(root)).toEqual([]);
  });

  it('mount destinations that try to leave the rootfs (.., absolute and relative symlinks, a magic link) land inside it; delete removes them all', async () => {
    const dir = targetDir();
    const bundle = scriptBundle('sleep 1000', (spec) => {
      sharedMountAndPid(spec);
      spec.mounts!.push(
        { destination: `${'/..'.repeat(12)}${dir}/dir`, type: 'tmpfs', source: 'dotdot', options: ['size=1m'] },
        { destination: '/evil-abs/dir', type: 'tmpfs', source: 'abslink', options: ['size=1m'] },
        { destination: '/evil-rel/dir', type: 'tmpfs', source: 'rellink', options: ['size=1m'] },
        // /proc is mounted by then: the link's text ("/") is read and resolved again inside the rootfs.
        { destination: `/proc/self/root${dir}/dir`, type: 'tmpfs', source: 'magic', options: ['size=1m'] },
      );
    });
    symlinkSync(dir, join(bundle.rootfs, 'evil-abs'));
    symlinkSync(`${'../'.repeat(12)}${dir.slice(1)}`, join(bundle.rootfs, 'evil-rel'));
    const ns = await privateMountNamespace();
    targets.push({ ns, path: join(dir, 'dir') });
    const root = makeRoot();
    const id = uniqueId('escape');
    const c = await tsrunIn(ns, ['-m'], root, ['create', '--bundle', bundle.dir, id], bundle.dir);
    expect(c.exitCode).toBe(0);
    expect(mountsUnder(ns, dir)).toEqual([]);
    // All four resolve to the same place inside the rootfs: <rootfs><dir>/dir.
    expect(mountsUnder(ns, join(bundle.rootfs, dir, 'dir'))).toHaveLength(4);
    const d = await tsrunIn(ns, ['-m'], root, ['delete', '--force', id], bundle.dir);
    expect(d.exitCode).toBe(0);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
    expect(mountsUnder(ns, dir)).toEqual([]);
  });
});
