// The packed tarball works in a fresh project: `npm pack` holds everything a run needs (the
// launcher, the bundle and its snapshot, tsrun-init, the shim library), `npm install` of it in a
// scratch project needs no compiler and no network (the dependencies come from this repo's
// node_modules), `npx tsrun` runs containers with the installed tsrun-init, and the package root
// imports (once the API's `exports` are in package.json).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cannotRunContainers, makeBundle, removeAllBundles, REPO, sh } from '../../helpers/bundle.js';

const skip = cannotRunContainers();
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; exports?: unknown };
const scratch = mkdtempSync(join(tmpdir(), 'tsrun-pack-'));
const project = join(scratch, 'project');
const root = join(scratch, 'state');
let tarball = '';

/** The environment of a user's shell: nothing pointing back into this repo. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['TSRUN_INIT', 'TSRUN_SHIM', 'TSRUN_PACKAGE_ROOT', 'TSRUN_CLI', 'NODE_OPTIONS']) delete env[k];
  return env;
}

function inProject(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: project, env: userEnv(), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (skip) return;
  // The build is `make build`'s (this test runs after it); prepack would run it again.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: REPO, encoding: 'utf8' });
  tarball = join(scratch, (JSON.parse(out) as { filename: string }[])[0]!.filename);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true, type: 'module' }));
  // Offline: the package's dependencies (and theirs) are copied from this repo's node_modules, where
  // they satisfy the same ranges, so npm finds nothing to fetch.
  const deps = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO, encoding: 'utf8' }).trim().split('\n').slice(1);
  for (const dir of deps) {
    const rel = relative(REPO, dir);
    mkdirSync(join(project, dirname(rel)), { recursive: true });
    cpSync(dir, join(project, rel), { recursive: true, verbatimSymlinks: true });
  }
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, env: userEnv(), stdio: 'pipe', timeout: 120_000 });
}, 180_000);

afterAll(() => {
  removeAllBundles();
  spawnSync(join(project, 'node_modules/.bin/tsrun'), ['--root', root, 'delete', '--force', 'pack-d']);
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(skip)('npm pack', () => {
  it('holds what a run needs, built, and no source maps or tests', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const f of ['bin/tsrun', 'bin/tsrun.js', 'dist/tsrun.js', 'dist/snapshot/full.cjs', 'native-bindings/build/tsrun-init', 'native-bindings/build/libtsrun-shim.so', 'package.json']) {
      expect(files, f).toContain(`package/${f}`);
    }
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('package/test/') || f.startsWith('package/src/'))).toEqual([]);
    expect(pkg.name).not.toBe('tsrun'); // taken on npm by an unrelated package
  });

  it('installs into a scratch project: npx tsrun --version', () => {
    expect(existsSync(join(project, 'node_modules', pkg.name, 'native-bindings/build/tsrun-init'))).toBe(true);
    const r = inProject('npx', ['--offline', 'tsrun', '--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`tsrun version ${pkg.version}`);
  });

  it('runs a container with the installed package, and --init binds the installed tsrun-init', () => {
    const b = makeBundle({ mutate: (spec, m) => { spec.process!.args = sh('echo hello from $(hostname)', m.marker); spec.process!.terminal = false; spec.hostname = 'packed'; } });
    const r = inProject('npx', ['--offline', 'tsrun', '--root', root, 'run', '--bundle', b.dir, 'pack-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello from packed\n');

    const d = makeBundle({ mutate: (spec, m) => { spec.process!.args = sh('sleep 1000', m.marker); spec.process!.terminal = false; } });
    const bin = join(project, 'node_modules/.bin/tsrun');
    // run -d hands its stdio to the container: none here.
    const started = spawnSync(bin, ['--root', root, 'run', '-d', '--init', '--bundle', d.dir, 'pack-d'], { cwd: project, env: userEnv(), stdio: 'ignore', timeout: 30_000 });
    expect(started.status).toBe(0);
    const state = JSON.parse(readFileSync(join(root, 'pack-d', 'state.json'), 'utf8')) as { config: { mounts: { destination: string; source: string }[] } };
    expect(state.config.mounts.find((m) => m.destination === '/dev/init')?.source).toBe(join(project, 'node_modules', pkg.name, 'native-bindings/build/tsrun-init'));
    expect(spawnSync(bin, ['--root', root, 'delete', '--force', 'pack-d'], { env: userEnv() }).status).toBe(0);
  });

  // Pending until the API branch adds `exports` to package.json: then this imports the package root.
  it.skipIf(pkg.exports === undefined)('imports the package root from the scratch project', () => {
    writeFileSync(join(project, 'import.mjs'), `const m = await import(${JSON.stringify(pkg.name)}); console.log(Object.keys(m).sort().join(','));\n`);
    const r = inProject('node', ['import.mjs']);
    expect(r.status, r.stderr).toBe(0);
    // The names issue 15 fixes.
    expect(r.stdout.trim().split(',')).toEqual(expect.arrayContaining(['run', 'start', 'Wait', 'session', 'sweep', 'hostCapabilities']));
  });
});

describe('building from source (prepack, git installs)', () => {
  it('without a C compiler says what is missing, before building anything', () => {
    const r = spawnSync('sh', [join(REPO, 'scripts/prepack.sh')], { cwd: REPO, env: { ...process.env, CC: '/nonexistent/cc' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/needs make and a C compiler \(\/nonexistent\/cc\).*build-essential/);
  });
});
