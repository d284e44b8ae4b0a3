// bin/tsrun, the command users run, starts node from the V8 startup snapshot (dist/tsrun.blob). The
// snapshot holds only the hot commands; help, the image store and the teaching commands run from
// dist/snapshot/full.cjs (src/startup/snapshot-main.ts). Both paths, through the real launcher.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO, cannotRunContainers, containerTestHooks, makeBundle, sh } from '../../helpers/bundle.js';

const LAUNCHER = join(REPO, 'bin/tsrun');
const SAMPLE_LAYOUT = join(REPO, 'rootfs-samples/build/busybox-layers');
const skip = cannotRunContainers() ?? (existsSync(join(REPO, 'dist/tsrun.blob')) ? undefined : 'dist/tsrun.blob not built');

const KEY_TOOL = join(REPO, 'native-bindings/build/tsrun-snapshot-key');
/** The node the launcher finds: the first on PATH. */
const NODE = execFileSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).trim();

/** An empty NODE_OPTIONS: the launcher starts the snapshot only without one (a CI may set it). */
const PLAIN_NODE = { NODE_OPTIONS: '' };

interface Package { root: string; launcher: string; blob: string; keyFile: string }

/** The key the key tool prints for `blob` and `node` on this machine (what the build records). */
function keyOf(keyTool: string, node: string, blob: string): string {
  return execFileSync(keyTool, [node, blob], { encoding: 'utf8' });
}

/** `key` with the last number of its `part` line changed: a key made for something else. */
function changeWord(key: string, part: 'node' | 'cpu' | 'blob'): string {
  return key.replace(new RegExp(`^(${part} (?:.* )?)([0-9a-f]+)$`, 'm'), (_m, head: string, last: string) => `${head}${(parseInt(last, 16) + 1).toString(16)}`);
}

/** What the launcher said it started (--debug): the snapshot, or the plain bundle and why. */
function decision(stderr: string): { path?: string; reason?: string } {
  const m = /^tsrun: debug: launcher: (\/\S*?)(?:: (.*))?$/m.exec(stderr);
  return m ? { path: m[1], reason: m[2] } : {};
}

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

  it('runs `run --dry-run` from the full bundle (its printing of the plan is not in the snapshot), and still prints the plan', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('touch /dry-run-ran', b.marker); } });
    const r = await launch(['--debug', 'run', '--dry-run', '--bundle', bundle.dir]);
    expect(r.stderr).toMatch(/not in the startup snapshot, running dist\/snapshot\/full\.cjs/);
    expect(r.stdout).toMatch(/execve \["sh","-c","touch \/dry-run-ran"/);
    expect(r.exitCode).toBe(0);
    expect(existsSync(join(bundle.rootfs, 'dry-run-ran'))).toBe(false);
  });

  it('serves `ps` from the snapshot: its table runs the host\'s ps with a child_process loaded only then', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('exec sleep 60', b.marker); } });
    const id = `launcher-ps-${process.pid}`;
    // Its stdio not piped: the container keeps what it is given open, and execa would wait for it.
    expect((await execa(LAUNCHER, ['run', '-d', '--bundle', bundle.dir, id], { reject: false, stdio: 'ignore', timeout: 20_000, cwd: REPO })).exitCode).toBe(0);
    try {
      const r = await launch(['--debug', 'ps', id]);
      expect(r.stderr).not.toMatch(/not in the startup snapshot/);
      expect(r.stderr).toMatch(/launcher: \S*tsrun\.blob/);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^\S*\s+PID\s/);
      expect(r.stdout).toMatch(/sleep 60/);
    } finally {
      await launch(['delete', '--force', id]);
    }
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
    /** A package root of its own: a copy of `launcher` as bin/tsrun, the real bundles (linked), and as
     * dist/tsrun.blob a copy of the real snapshot, or `blob` when given. No key until a test writes one. */
    function packageWith(opts: { launcher?: string; blob?: string } = {}): Package {
      const root = mkdtempSync(join(tmpdir(), 'tsrun-launcher-pkg-'));
      packages.push(root);
      mkdirSync(join(root, 'bin'));
      mkdirSync(join(root, 'dist'));
      copyFileSync(opts.launcher ?? LAUNCHER, join(root, 'bin/tsrun'));
      symlinkSync(join(REPO, 'dist/tsrun.js'), join(root, 'dist/tsrun.js'));
      symlinkSync(join(REPO, 'dist/snapshot'), join(root, 'dist/snapshot'));
      const blob = join(root, 'dist/tsrun.blob');
      if (opts.blob === undefined) copyFileSync(join(REPO, 'dist/tsrun.blob'), blob);
      else writeFileSync(blob, opts.blob);
      return { root, launcher: join(root, 'bin/tsrun'), blob, keyFile: join(root, 'dist/tsrun.blob.key') };
    }
    const packages: string[] = [];
    afterEach(() => {
      for (const root of packages.splice(0)) rmSync(root, { recursive: true, force: true });
    });

    /** The launcher and its key tool (launcher.c built with -DTSRUN_SNAPSHOT_KEY_TOOL), per variant:
     * as `make build` made them, on libc (other CPUs), and with arm64's hwcaps key (built here on x86-64). */
    const VARIANTS = {
      'as built': [],
      'built on libc (other CPUs)': ['-DTSRUN_LAUNCHER_LIBC'],
      'with the hwcaps key of arm64': ['-DTSRUN_LAUNCHER_LIBC', '-DTSRUN_LAUNCHER_HWCAP'],
    } satisfies Record<string, string[]>;
    type VariantName = keyof typeof VARIANTS;
    const built = new Map<VariantName, { launcher: string; keyTool: string }>();
    let variantDir = '';
    beforeAll(async () => {
      variantDir = mkdtempSync(join(tmpdir(), 'tsrun-launcher-variants-'));
      built.set('as built', { launcher: LAUNCHER, keyTool: KEY_TOOL });
      for (const [name, flags] of Object.entries(VARIANTS) as [VariantName, string[]][]) {
        if (flags.length === 0) continue;
        const out = join(variantDir, name.replace(/\W+/g, '-'));
        const cc = (extra: string[], to: string) =>
          execa('cc', ['-O2', '-static', ...flags, ...extra, '-Wall', '-Wextra', '-Werror', '-o', to, join(REPO, 'native-bindings/launcher.c')]);
        await cc([], `${out}-launcher`);
        await cc(['-DTSRUN_SNAPSHOT_KEY_TOOL'], `${out}-key`);
        built.set(name, { launcher: `${out}-launcher`, keyTool: `${out}-key` });
      }
    }, 60_000);
    afterAll(() => { if (variantDir) rmSync(variantDir, { recursive: true, force: true }); });
    const variant = (name: VariantName) => built.get(name)!;

    it("uses this build's snapshot on the machine that built it", async () => {
      const r = await execa(LAUNCHER, ['--debug', '--version'], { reject: false, env: PLAIN_NODE });
      expect(decision(r.stderr)).toEqual({ path: join(REPO, 'dist/tsrun.blob'), reason: undefined });
      expect(r.stdout).toMatch(/^tsrun version /);
      expect(r.exitCode).toBe(0);
    });

    it('--debug is a global option: before the command only, and not when it is the value of --root', async () => {
      const before = await execa(LAUNCHER, ['--root', '/run/tsrun', '--debug', 'list'], { reject: false, env: PLAIN_NODE });
      expect(decision(before.stderr)).toBeDefined();
      // After the command it belongs to the command (which refuses it): the launcher says nothing.
      const after = await execa(LAUNCHER, ['list', '--debug'], { reject: false, env: PLAIN_NODE });
      expect(after.stderr).not.toMatch(/debug: launcher/);
      expect(after.exitCode).not.toBe(0);
      // (--log's value is a file name: run where that file may be made.)
      const cwd = mkdtempSync(join(tmpdir(), 'tsrun-launcher-log-'));
      try {
        const asValue = await execa(LAUNCHER, ['--log', '--debug', '--version'], { reject: false, env: PLAIN_NODE, cwd });
        expect(asValue.stderr).not.toMatch(/debug: launcher/);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });

    it.each(Object.keys(VARIANTS) as VariantName[])('uses the snapshot exactly when the recorded key is this node\'s, this CPU\'s and this blob\'s (%s)', async (name) => {
      const { launcher, keyTool } = variant(name);
      const pkg = packageWith({ launcher });
      const key = keyOf(keyTool, NODE, pkg.blob);
      expect(key).toMatch(/^tsrun-snapshot-key 1\nnode( [0-9a-f]+){8}\ncpu (x86-64|hwcap)( [0-9a-f]+)+\nblob [0-9a-f]+\n$/);
      const forged: Record<string, string | null> = {
        'no key': null,
        'an empty key': '',
        'another CPU': changeWord(key, 'cpu'),
        'another node': changeWord(key, 'node'),
        'another blob': changeWord(key, 'blob'),
        'another key format': key.replace('tsrun-snapshot-key 1', 'tsrun-snapshot-key 2'),
      };
      for (const content of Object.values(forged)) expect(content).not.toBe(key);
      for (const [what, content] of [['this machine', key], ...Object.entries(forged)] as [string, string | null][]) {
        rmSync(pkg.keyFile, { force: true });
        if (content !== null) writeFileSync(pkg.keyFile, content);
        const r = await execa(pkg.launcher, ['--debug', '--version'], { reject: false, env: PLAIN_NODE });
        const expected = what === 'this machine' ? { path: pkg.blob, reason: undefined }
          : { path: join(pkg.root, 'dist/tsrun.js'), reason: content === null ? 'no snapshot key (dist/tsrun.blob.key)' : 'the snapshot was built for another node or CPU' };
        expect({ what, ...decision(r.stderr) }).toEqual({ what, ...expected });
        expect({ what, stdout: r.stdout, exitCode: r.exitCode }).toEqual({ what, stdout: expect.stringMatching(/^tsrun version /) as unknown, exitCode: 0 });
      }
    });

    it('trusts a matching key (node then refuses a blob that is no snapshot) and runs the plain bundle without a blob', async () => {
      const pkg = packageWith({ blob: 'not a snapshot' });
      writeFileSync(pkg.keyFile, keyOf(KEY_TOOL, NODE, pkg.blob));
      const trusted = await execa(pkg.launcher, ['--debug', '--version'], { reject: false, env: PLAIN_NODE });
      expect(decision(trusted.stderr).path).toBe(pkg.blob);
      expect(trusted.exitCode).not.toBe(0);
      rmSync(pkg.blob);
      const none = await execa(pkg.launcher, ['--debug', '--version'], { reject: false, env: PLAIN_NODE });
      expect(decision(none.stderr)).toEqual({ path: join(pkg.root, 'dist/tsrun.js'), reason: 'no startup snapshot' });
      expect(none.stdout).toMatch(/^tsrun version /);
    });

    it('with NODE_OPTIONS set runs the plain bundle: a V8 option in it makes node refuse the snapshot', async () => {
      const env = { NODE_OPTIONS: '--max-old-space-size=300' };
      const direct = await execa(NODE, ['--snapshot-blob', join(REPO, 'dist/tsrun.blob'), '--', '--version'], { reject: false, env });
      expect(direct.stderr).toMatch(/Failed to load the startup snapshot/);
      const r = await execa(LAUNCHER, ['--debug', '--version'], { reject: false, env });
      expect(decision(r.stderr)).toEqual({ path: join(REPO, 'dist/tsrun.js'), reason: expect.stringMatching(/^NODE_OPTIONS is set/) as unknown });
      expect(r.stdout).toMatch(/^tsrun version /);
      expect(r.exitCode).toBe(0);
    });

    it('knows node by its file, not its name or version: a copy is another node; a symlink to node is node; a shim is not', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsrun-launcher-nodes-'));
      packages.push(dir);
      const copy = join(dir, 'copy/node');
      mkdirSync(dirname(copy));
      copyFileSync(NODE, copy);
      chmodSync(copy, 0o755);
      const nodeAt = (name: string, make: (path: string) => void): string => {
        const bin = join(dir, name);
        mkdirSync(bin);
        make(join(bin, 'node'));
        return bin;
      };
      const pkg = packageWith();
      /** The launcher's decision with `bin` first on PATH and a key made for `keyNode`. */
      const run = async (bin: string, keyNode: string) => {
        writeFileSync(pkg.keyFile, keyOf(KEY_TOOL, keyNode, pkg.blob));
        const r = await execa(pkg.launcher, ['--debug', '--version'], { reject: false, env: { ...PLAIN_NODE, PATH: `${bin}:${process.env.PATH}` } });
        expect(r.stdout).toMatch(/^tsrun version /);
        return decision(r.stderr);
      };
      const SNAPSHOT = { path: pkg.blob, reason: undefined };
      const PLAIN = (reason: string) => ({ path: join(pkg.root, 'dist/tsrun.js'), reason });
      const copyBin = dirname(copy);
      expect(await run(copyBin, NODE)).toEqual(PLAIN('the snapshot was built for another node or CPU'));
      expect(await run(copyBin, copy)).toEqual(SNAPSHOT);
      const link = nodeAt('link', (p) => symlinkSync(NODE, p));
      expect(await run(link, NODE)).toEqual(SNAPSHOT);
      const relative = nodeAt('relative', (p) => symlinkSync('../copy/node', p));
      expect(await run(relative, copy)).toEqual(SNAPSHOT);
      const NOT_NODE = PLAIN('node is not node itself (a version manager\'s shim, or a small node on a shared libnode)');
      const script = nodeAt('script', (p) => { writeFileSync(p, `#!/bin/sh\nexec ${NODE} "$@"\n`); chmodSync(p, 0o755); });
      expect(await run(script, join(script, 'node'))).toEqual(NOT_NODE);
      // A version manager's node: a symlink to its own program (volta-shim, mise), here big like node.
      const shim = join(dir, 'volta/volta-shim');
      mkdirSync(dirname(shim));
      copyFileSync(copy, shim);
      chmodSync(shim, 0o755);
      const volta = nodeAt('volta-bin', (p) => symlinkSync(shim, p));
      expect(await run(volta, shim)).toEqual(NOT_NODE);
    }, 60_000);

    // x86-64 builds the launcher without libc; other CPUs get the libc build, checked here too.
    it.each(Object.keys(VARIANTS) as VariantName[])('passes the arguments on, and drops NODE_EXTRA_CA_CERTS and an inherited TSRUN_PACKAGE_ROOT from the environment (%s)', async (name) => {
      // No key: the launcher runs dist/tsrun.js, here a script that shows what it got.
      const pkg = packageWith({ launcher: variant(name).launcher, blob: 'not a snapshot' });
      rmSync(join(pkg.root, 'dist/tsrun.js'));
      writeFileSync(join(pkg.root, 'dist/tsrun.js'), 'console.log(JSON.stringify({ args: process.argv.slice(2), ca: process.env.NODE_EXTRA_CA_CERTS ?? null, root: process.env.TSRUN_PACKAGE_ROOT ?? null, keep: process.env.KEEP_ME }));\n');
      const r = await execa(pkg.launcher, ['run', '--bundle', 'a b', '', '--x=1'], {
        reject: false, env: { NODE_EXTRA_CA_CERTS: '/etc/ssl/extra.pem', TSRUN_PACKAGE_ROOT: '/elsewhere', KEEP_ME: 'yes' },
      });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ args: ['run', '--bundle', 'a b', '', '--x=1'], ca: null, root: null, keep: 'yes' });
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
