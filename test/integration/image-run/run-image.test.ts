// `tsrun run --image`: the sample two-layer image (rootfs-samples/image.sh) run without a bundle.
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, cannotRunContainers, mountPoints, mountDiff, poll, runTsrun } from '../../helpers/bundle.js';
import { tsrunToFiles } from '../../helpers/lifecycle.js';

const LAYOUT = join(REPO, 'rootfs-samples/build/busybox-layers');
const ARCHIVE = join(REPO, 'rootfs-samples/build/busybox-layers.docker.tar');
const skip = cannotRunContainers() ?? (existsSync(join(LAYOUT, 'index.json')) ? undefined : 'no sample image: run `make samples`');

describe.skipIf(skip !== undefined)(`tsrun run --image${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let store: string;
  let root: string;
  let before: string[];
  beforeAll(() => {
    store = mkdtempSync(join(tmpdir(), 'tsrun-it-store-'));
    root = mkdtempSync(join(tmpdir(), 'tsrun-it-root-'));
    before = mountPoints();
  });
  afterAll(() => {
    expect(mountDiff(before, mountPoints())).toEqual([]);
    rmSync(store, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });
  const run = (args: string[]) => runTsrun(['--root', root, 'run', '--store', store, ...args]);

  it('runs the image\'s Entrypoint with the command after --, as the image\'s user, on an overlay root', async () => {
    const r = await run(['--image', LAYOUT, '--', 'id -un; pwd; echo $SAMPLE; grep " / / " /proc/self/mountinfo | grep -o "overlay overlay"']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('app\n/home/app\nbusybox-layers\noverlay overlay\n');
    expect(r.exitCode).toBe(0);
  });

  it('shows the top layer\'s whiteouts: deleted files are gone, the opaque directory has only the new content', async () => {
    // rootfs-samples/image.sh: the top layer deletes /etc/motd and replaces /data opaquely.
    const r = await run(['--image', LAYOUT, '--', 'test -e /etc/motd && echo motd-present || echo motd-gone; ls -A /data']);
    expect(r.stdout).toBe('motd-gone\nnew\n');
    expect(r.exitCode).toBe(0);
  });

  it('writes go to the container\'s upper layer, never into the shared layers', async () => {
    const w = await run(['--image', LAYOUT, '--', 'echo changed > /home/app/new-file && echo ok']);
    expect(w.stdout).toBe('ok\n');
    const r = await run(['--image', LAYOUT, '--', 'test -e /home/app/new-file && echo leaked || echo clean']);
    expect(r.stdout).toBe('clean\n');
  });

  it('runs the same image from a docker archive, and leaves no state, overlay or container behind', async () => {
    const r = await run(['--image', ARCHIVE, 'img-archive-1', '--', 'echo from-archive']);
    expect(r.stdout).toBe('from-archive\n');
    expect(r.exitCode).toBe(0);
    expect(readdirSync(root)).toEqual([]);
  });

  it('a missing image names it and leaves nothing', async () => {
    const r = await run(['--image', join(store, 'no-such-layout'), '--', 'true']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-layout/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('image rm + prune keep the layers of a container still using them; delete lets them go', async () => {
    const s = mkdtempSync(join(tmpdir(), 'tsrun-it-store-'));
    try {
      const tsrun = (args: string[]) => runTsrun(['--root', root, ...args]);
      // run -d: the container keeps tsrun's stdout and stderr, so they go to files.
      const d = await tsrunToFiles(root, ['run', '-d', '--store', s, '--image', LAYOUT, 'img-ref-1', '--', 'sleep 60'], s);
      expect([d.exitCode, d.stderr()]).toEqual([0, '']);
      const layers = readdirSync(join(s, 'layers')).sort();
      expect(layers.length).toBe(2);
      expect((await tsrun(['image', 'rm', '--store', s, 'busybox-layers:latest'])).exitCode).toBe(0);
      const kept = await tsrun(['image', 'prune', '--store', s]);
      expect(kept.stdout).toBe('');
      expect(readdirSync(join(s, 'layers')).sort()).toEqual(layers);
      // The container still reads its layers through its overlay.
      expect((await tsrun(['exec', 'img-ref-1', '--', 'cat', '/etc/hostname'])).stdout).toBe('top\n');
      expect((await tsrun(['delete', '-f', 'img-ref-1'])).exitCode).toBe(0);
      expect(readdirSync(join(s, 'containers'))).toEqual([]);
      const pruned = await tsrun(['image', 'prune', '--store', s]);
      expect(pruned.stdout.trim().split('\n').length).toBe(2);
      expect(readdirSync(join(s, 'layers'))).toEqual([]);
    } finally {
      await runTsrun(['--root', root, 'delete', '-f', 'img-ref-1']);
      rmSync(s, { recursive: true, force: true });
    }
  });

  it('--keep-upper: what the container changed stays in <store>/uppers/<id>-<time>/upper, whose path is printed', async () => {
    // The image's user (app) owns /home/app: a new file, and a deleted file of the image (a whiteout).
    const r = await run(['--keep-upper', '--image', LAYOUT, 'img-keep-1', '--', 'echo changed > /home/app/new-file; rm /home/app/greeting; echo ok']);
    expect(r.stdout).toBe('ok\n');
    expect(r.exitCode).toBe(0);
    const m = /^tsrun: the upper layer of container img-keep-1 is kept in (\S+)\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const upper = m![1]!;
    expect(upper).toMatch(new RegExp(`^${store}/uppers/img-keep-1-\\d{8}T\\d{6}Z/upper$`));
    expect(readFileSync(join(upper, 'home/app/new-file'), 'utf8')).toBe('changed\n');
    const wh = lstatSync(join(upper, 'home/app/greeting'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(readdirSync(join(upper, '..')).sort()).toEqual(['upper', 'upper.json']); // overlayfs' work dir is gone
    expect(JSON.parse(readFileSync(join(upper, '../upper.json'), 'utf8')).container).toBe('img-keep-1');
    expect(readdirSync(root)).toEqual([]);
    rmSync(join(upper, '..'), { recursive: true });
  });

  it('--keep-upper with create/start/delete: delete prints the kept path; without the flag nothing is kept', async () => {
    const tsrun = (args: string[]) => runTsrun(['--root', root, ...args]);
    const out = mkdtempSync(join(tmpdir(), 'tsrun-it-out-'));
    try {
      const c = await tsrunToFiles(root, ['create', '--store', store, '--keep-upper', '--image', LAYOUT, 'img-keep-2'], out);
      expect([c.exitCode, c.stderr()]).toEqual([0, '']);
      expect((await tsrun(['start', 'img-keep-2'])).exitCode).toBe(0);
      await poll(() => (readFileSync(c.stdoutFile, 'utf8') === 'top\nnew\n' ? true : undefined), 5_000, 'the image command\'s output');
      const d = await tsrun(['delete', '-f', 'img-keep-2']);
      expect(d.exitCode).toBe(0);
      expect(d.stderr).toMatch(new RegExp(`^tsrun: the upper layer of container img-keep-2 is kept in ${store}/uppers/img-keep-2-\\S+/upper\n$`));
      rmSync(join(store, 'uppers'), { recursive: true });

      const plain = await tsrunToFiles(root, ['run', '-d', '--store', store, '--image', LAYOUT, 'img-keep-3', '--', 'sleep 30'], out);
      expect(plain.exitCode).toBe(0);
      const d3 = await tsrun(['delete', '-f', 'img-keep-3']);
      expect([d3.exitCode, d3.stderr]).toEqual([0, '']);
      expect(existsSync(join(store, 'uppers'))).toBe(false);
    } finally {
      await tsrun(['delete', '-f', 'img-keep-2']);
      await tsrun(['delete', '-f', 'img-keep-3']);
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('image rm-upper removes a kept upper layer (given as delete printed it); refused while its container has it, and for any other path', async () => {
    const tsrun = (args: string[]) => runTsrun(['--root', root, ...args]);
    const rmUpper = (dir: string) => tsrun(['image', 'rm-upper', '--store', store, dir]);
    const out = mkdtempSync(join(tmpdir(), 'tsrun-it-out-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'tsrun-it-not-kept-'));
    try {
      const c = await tsrunToFiles(root, ['create', '--store', store, '--keep-upper', '--image', LAYOUT, 'img-keep-6'], out);
      expect([c.exitCode, c.stderr()]).toEqual([0, '']);
      const [kept] = readdirSync(join(store, 'uppers'));
      const dir = join(store, 'uppers', kept!);
      const busy = await rmUpper(join(dir, 'upper'));
      expect([busy.exitCode, busy.stderr]).toEqual([1, `tsrun: ${dir} is still its container's upper layer (overlayfs' work dir is there): delete the container first\n`]);
      expect(existsSync(join(dir, 'upper'))).toBe(true);
      const d = await tsrun(['delete', '-f', 'img-keep-6']);
      const printed = /is kept in (\S+)\n$/.exec(d.stderr)![1]!;
      const gone = await rmUpper(printed);
      expect([gone.exitCode, gone.stdout, gone.stderr]).toEqual([0, `removed ${dir}\n`, '']);
      expect(readdirSync(join(store, 'uppers'))).toEqual([]);
      // Not a kept upper layer: a directory elsewhere, a symlink in uppers to one, a missing one.
      symlinkSync(elsewhere, join(store, 'uppers', 'link'));
      for (const [path, why] of [[elsewhere, 'kept upper layers are the directories in'], [join(store, 'uppers', 'link'), 'not a directory'], [join(store, 'uppers', 'none'), 'no such directory']] as const) {
        const r = await rmUpper(path);
        expect(r.exitCode, path).toBe(1);
        expect(r.stderr).toContain(`${path} is not an upper layer kept in ${store}/uppers: ${why}`);
      }
      expect(existsSync(elsewhere)).toBe(true);
    } finally {
      await tsrun(['delete', '-f', 'img-keep-6']);
      rmSync(join(store, 'uppers'), { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('--keep-upper: a failed create keeps nothing; without --image it is refused', async () => {
    const r = await run(['--keep-upper', '--image', LAYOUT, '--pid-file', join(store, 'no/such/dir/pid'), 'img-keep-4', '--', 'true']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/pid file/);
    expect(existsSync(join(store, 'uppers')) ? readdirSync(join(store, 'uppers')) : []).toEqual([]);
    expect(readdirSync(join(store, 'containers'))).toEqual([]);
    expect(readdirSync(root)).toEqual([]);
    const u = await runTsrun(['--root', root, 'create', '--keep-upper', 'img-keep-5']);
    expect([u.exitCode, u.stderr]).toEqual([2, 'tsrun: --keep-upper needs --image (a bundle\'s rootfs is a directory of its own, with no upper layer) (see tsrun create --help)\n']);
  });

  it('refuses a command after -- without --image', async () => {
    const r = await runTsrun(['--root', root, 'run', '--bundle', LAYOUT, 'some-id', '--', 'true']);
    expect(r.exitCode).toBe(125); // run's usage errors are tsrun's failures: podman's 125
    expect(r.stderr).toMatch(/needs --image/);
  });
});
