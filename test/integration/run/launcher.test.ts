// bin/tsrun, the command users run, starts node from the V8 startup snapshot (dist/tsrun.blob). The
// snapshot holds only the hot commands; help, the image store and the teaching commands run from
// dist/snapshot/full.cjs (src/cli/snapshot-main.ts). Both paths, through the real launcher.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO, cannotRunContainers, containerTestHooks, makeBundle, sh } from '../../helpers/bundle.js';

const LAUNCHER = join(REPO, 'bin/tsrun');
const SAMPLE_LAYOUT = join(REPO, 'rootfs-samples/build/busybox-layers');
const skip = cannotRunContainers() ?? (existsSync(join(REPO, 'dist/tsrun.blob')) ? undefined : 'dist/tsrun.blob not built');

const launch = (args: string[]) => execa(LAUNCHER, args, { reject: false, stdin: 'ignore', timeout: 20_000, cwd: REPO });

describe.skipIf(skip !== undefined)(`bin/tsrun (startup snapshot)${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('runs a container from the snapshot and passes its output and exit code through', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('echo from-snapshot; exit 7', b.marker); } });
    const r = await launch(['run', '--bundle', bundle.dir]);
    expect(r.stdout).toContain('from-snapshot');
    expect(r.exitCode).toBe(7);
  });

  it('hands --help, `image` and `check` to the full bundle', async () => {
    const help = await launch(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/Usage: tsrun/);
    const runHelp = await launch(['run', '--help']);
    expect(runHelp.exitCode).toBe(0);
    expect(runHelp.stdout).toMatch(/--image/);
    const store = mkdtempSync(join(tmpdir(), 'tsrun-launcher-store-'));
    try {
      const ls = await launch(['image', 'ls', '--store', store]);
      expect(ls.stderr).toBe('');
      expect(ls.exitCode).toBe(0);
      expect(ls.stdout).toMatch(/NAME/);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
    const check = await launch(['check', '--format', 'json']);
    expect(() => JSON.parse(check.stdout) as unknown).not.toThrow();
  });

  it.skipIf(!existsSync(SAMPLE_LAYOUT))('runs `run --image` from the full bundle (the image code is not in the snapshot)', async () => {
    const store = mkdtempSync(join(tmpdir(), 'tsrun-launcher-store-'));
    try {
      // The sample image's entrypoint is `sh -c`: the command is one script. It outlives tsrun's
      // set-up, so tsrun must really wait for it (a broken wait once left it, and its state, behind).
      const id = `launcher-image-${process.pid}`;
      const r = await launch(['run', '--store', store, '--image', SAMPLE_LAYOUT, id, '--', 'sleep 0.3; echo from-image']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('from-image');
      expect(r.exitCode).toBe(0);
      expect(existsSync(join('/run/tsrun', id))).toBe(false);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync(SAMPLE_LAYOUT))('serves `run --image` of an imported image from the snapshot; one that must be imported first from the full bundle', async () => {
    const store = mkdtempSync(join(tmpdir(), 'tsrun-launcher-store-'));
    const FULL = /not in the startup snapshot, running dist\/snapshot\/full\.cjs/;
    try {
      const first = await launch(['--debug', 'run', '--store', store, '--image', SAMPLE_LAYOUT, `launcher-first-${process.pid}`, '--', 'sleep 0.3; echo first']);
      expect(first.stdout).toBe('first');
      expect(first.stderr).toMatch(FULL);
      expect(existsSync(join('/run/tsrun', `launcher-first-${process.pid}`))).toBe(false);
      const again = await launch(['--debug', 'run', '--store', store, '--image', SAMPLE_LAYOUT, `launcher-again-${process.pid}`, '--', 'echo again']);
      expect(again.stdout).toBe('again');
      expect(again.stderr).not.toMatch(FULL);
      const byName = await launch(['--debug', 'run', '--store', store, '--image', 'busybox-layers', `launcher-name-${process.pid}`, '--', 'echo by-name']);
      expect(byName.stdout).toBe('by-name');
      expect(byName.stderr).not.toMatch(FULL);
      expect(byName.exitCode).toBe(0);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });

  describe('the launcher itself (native-bindings/launcher.c)', () => {
    /** A package root of its own: a copy of the launcher, the real bundle, and `blob` as dist/tsrun.blob. */
    function packageWith(blob: { content: string; mtime: Date }): { root: string; launcher: string } {
      const root = mkdtempSync(join(tmpdir(), 'tsrun-launcher-pkg-'));
      mkdirSync(join(root, 'bin'));
      mkdirSync(join(root, 'dist'));
      copyFileSync(LAUNCHER, join(root, 'bin/tsrun'));
      symlinkSync(join(REPO, 'dist/tsrun.js'), join(root, 'dist/tsrun.js'));
      writeFileSync(join(root, 'dist/tsrun.blob'), blob.content);
      utimesSync(join(root, 'dist/tsrun.blob'), blob.mtime, blob.mtime);
      return { root, launcher: join(root, 'bin/tsrun') };
    }

    it('runs the plain bundle when the snapshot is older than node (an upgraded node), the snapshot otherwise', async () => {
      // Not a real snapshot: node refuses it, which shows which way the launcher went.
      const stale = packageWith({ content: 'not a snapshot', mtime: new Date('2000-01-01') });
      const fresh = packageWith({ content: 'not a snapshot', mtime: new Date(Date.now() + 60_000) });
      try {
        const a = await execa(stale.launcher, ['--version'], { reject: false });
        expect(a.stdout).toMatch(/^tsrun version /);
        expect(a.exitCode).toBe(0);
        const b = await execa(fresh.launcher, ['--version'], { reject: false });
        expect(b.stdout).not.toMatch(/tsrun version/);
        expect(b.exitCode).not.toBe(0);
      } finally {
        rmSync(stale.root, { recursive: true, force: true });
        rmSync(fresh.root, { recursive: true, force: true });
      }
    });

    // x86-64 builds the launcher without libc; other CPUs get the libc build, checked here too.
    it.each(['as built', 'built on libc (other CPUs)'])('passes the arguments on, and drops NODE_EXTRA_CA_CERTS and an inherited TSRUN_PACKAGE_ROOT from the environment (%s)', async (variant) => {
      // A stale snapshot: the launcher runs dist/tsrun.js, here a script that shows what it got.
      const pkg = packageWith({ content: 'not a snapshot', mtime: new Date('2000-01-01') });
      try {
        if (variant !== 'as built') {
          await execa('cc', ['-O2', '-static', '-DTSRUN_LAUNCHER_LIBC', '-Wall', '-Wextra', '-Werror', '-o', pkg.launcher, join(REPO, 'native-bindings/launcher.c')]);
        }
        rmSync(join(pkg.root, 'dist/tsrun.js'));
        writeFileSync(join(pkg.root, 'dist/tsrun.js'), 'console.log(JSON.stringify({ args: process.argv.slice(2), ca: process.env.NODE_EXTRA_CA_CERTS ?? null, root: process.env.TSRUN_PACKAGE_ROOT ?? null, keep: process.env.KEEP_ME }));\n');
        const r = await execa(pkg.launcher, ['run', '--bundle', 'a b', '', '--x=1'], {
          reject: false, env: { NODE_EXTRA_CA_CERTS: '/etc/ssl/extra.pem', TSRUN_PACKAGE_ROOT: '/elsewhere', KEEP_ME: 'yes' },
        });
        expect(r.stderr).toBe('');
        expect(JSON.parse(r.stdout)).toEqual({ args: ['run', '--bundle', 'a b', '', '--x=1'], ca: null, root: null, keep: 'yes' });
      } finally {
        rmSync(pkg.root, { recursive: true, force: true });
      }
    });

    it('finds its package through a symlink (e.g. /usr/local/bin/tsrun -> bin/tsrun)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsrun-launcher-link-'));
      try {
        symlinkSync(LAUNCHER, join(dir, 'tsrun'));
        const r = await execa(join(dir, 'tsrun'), ['state', 'no-such-container'], { reject: false });
        expect(r.stderr).toMatch(/container no-such-container does not exist/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('without node on PATH: a message and exit 127', async () => {
      const r = await execa(LAUNCHER, ['--version'], { reject: false, env: { PATH: '/nonexistent' }, extendEnv: false });
      expect(r.stderr).toBe('tsrun: node (>= 20) is not on PATH');
      expect(r.exitCode).toBe(127);
    });
  });

  it('reports usage errors the same way on both paths', async () => {
    const hot = await launch(['run', '--no-such-flag']);
    const cold = await launch(['image', '--no-such-flag']);
    expect(hot.exitCode).toBe(125); // run: podman's status for tsrun's own failures
    expect(hot.stderr).toMatch(/^tsrun: .*--no-such-flag.*\(see tsrun run --help\)/);
    expect(cold.exitCode).toBe(2);
    expect(cold.stderr).toMatch(/^tsrun: .*--no-such-flag/);
  });
});
