// Issue 12, item 5: a container's state holds its whole config (process.env included), so no other
// user may read it. The state root tsrun makes is 0700, each container's directory 0700 and every
// file tsrun writes there 0600 (runc: root 0700, state.json 0600). A root left at 0711 by an older
// tsrun is tightened; a root the user made with another mode is left alone (the container's own
// directory still shuts others out). Checked as user nobody (setpriv), not only by mode bits.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, REPO } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, mustCreate, scriptBundle, tsrun, tsrunToFiles, uniqueId } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers() ?? (existsSync('/usr/bin/setpriv') ? undefined : 'setpriv (util-linux) missing');
const IMAGE = join(REPO, 'rootfs-samples/build/busybox-layers');

const mode = (path: string): number => statSync(path).mode & 0o7777;
const octal = (path: string): string => `${path}: ${mode(path).toString(8).padStart(4, '0')}`;

/** Runs argv as user and group nobody (65534) with no supplementary groups. */
function asNobody(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...argv], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Asserts that user nobody can read none of `files` and finds `secret` nowhere under `root`. */
function expectUnreadableByNobody(root: string, files: string[], secret: string): void {
  for (const f of files) {
    expect(existsSync(f)).toBe(true); // root can see it: the test is about the others
    const r = asNobody(['cat', f]);
    expect(`${f}: ${r.status}`).not.toBe(`${f}: 0`);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(r.stdout).toBe('');
  }
  const grep = asNobody(['grep', '-rs', secret, root]);
  expect(grep.stdout).toBe('');
}

describe.skipIf(skip !== undefined)(`security: state file modes${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  function secretBundle(): { bundle: ReturnType<typeof scriptBundle>; secret: string } {
    const secret = `s3cret-${Math.random().toString(36).slice(2)}`;
    const bundle = scriptBundle('exec sleep 1000', (spec) => { spec.process!.env = [...(spec.process!.env ?? []), `API_TOKEN=${secret}`]; });
    return { bundle, secret };
  }

  it('a root tsrun makes is 0700; the container dir 0700; state.json and exec.fifo 0600; nobody reads the env secret', async () => {
    const root = makeRoot();
    rmdirSync(root); // tsrun makes it
    const id = uniqueId('modes');
    const { bundle, secret } = secretBundle();
    await mustCreate(root, bundle, id);
    const dir = join(root, id);
    expect([octal(root), octal(dir), octal(join(dir, 'state.json')), octal(join(dir, 'exec.fifo'))])
      .toEqual([`${root}: 0700`, `${dir}: 0700`, `${dir}/state.json: 0600`, `${dir}/exec.fifo: 0600`]);
    expectUnreadableByNobody(root, [join(dir, 'state.json')], secret);
    expect(asNobody(['ls', root]).status).not.toBe(0);
    // After start (state.json rewritten) the modes hold.
    expect((await tsrun(root, ['start', id])).exitCode).toBe(0);
    expect(octal(join(dir, 'state.json'))).toBe(`${dir}/state.json: 0600`);
  });

  it('a 0711 root left by an older tsrun is tightened to 0700 at the next create', async () => {
    const root = makeRoot();
    chmodSync(root, 0o711);
    // A container of the older version: its dir 0711, its state.json 0644.
    mkdirSync(join(root, 'old'), { mode: 0o711 });
    chmodSync(join(root, 'old'), 0o711);
    writeFileSync(join(root, 'old', 'state.json'), '{"process":{"env":["OLD_SECRET=x1y2z3"]}}', { mode: 0o644 });
    const id = uniqueId('modes-old');
    const { bundle, secret } = secretBundle();
    await mustCreate(root, bundle, id);
    expect(octal(root)).toBe(`${root}: 0700`);
    expectUnreadableByNobody(root, [join(root, id, 'state.json'), join(root, 'old', 'state.json')], secret);
    expect(asNobody(['grep', '-rs', 'x1y2z3', root]).stdout).toBe('');
    rmSync(join(root, 'old'), { recursive: true });
  });

  it('a root the user made 0755 keeps its mode; the container dir (0700) still shuts nobody out', async () => {
    const root = makeRoot();
    chmodSync(root, 0o755);
    const id = uniqueId('modes-user');
    const { bundle, secret } = secretBundle();
    await mustCreate(root, bundle, id);
    expect(octal(root)).toBe(`${root}: 0755`);
    expect(octal(join(root, id))).toBe(`${join(root, id)}: 0700`);
    expectUnreadableByNobody(root, [join(root, id, 'state.json')], secret);
  });

  it('create --image: image.json, the generated config.json and state.json are 0600 in a 0700 dir; nobody reads them', async () => {
    const root = makeRoot();
    const store = join(root, '..', 'store');
    const id = uniqueId('modes-img');
    const r = await tsrunToFiles(root, ['create', '--store', store, '--image', IMAGE, id], join(root, '..'));
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    const dir = join(root, id);
    const files = ['state.json', 'image.json', 'bundle/config.json', 'exec.fifo'].map((f) => join(dir, f));
    expect([dir, ...files].map(octal)).toEqual([`${dir}: 0700`, ...files.map((f) => `${f}: 0600`)]);
    // The image's environment (PATH=… from its config) is in config.json and state.json.
    expectUnreadableByNobody(root, files.slice(0, 3), 'PATH=');
    expect(mode(store) & 0o077).toBe(0);
  });

  it('the state file a container-namespace hook reads (hook-state-*.json) is 0600 too', async () => {
    const root = makeRoot();
    const id = uniqueId('modes-hook');
    const { bundle } = secretBundle();
    bundle.rewrite((spec) => { spec.hooks = { createContainer: [{ path: '/bin/true' }] }; });
    await mustCreate(root, bundle, id);
    const file = join(root, id, 'hook-state-createContainer.json');
    expect(octal(file)).toBe(`${file}: 0600`);
  });
});
