// --preserve-fds N on run, create and exec: fds 3..3+N-1 of the caller reach the container's process
// (podman passes them for --preserve-fds and socket activation); every other fd of the caller's stays
// out, as before. Real fds: files this test opens and hands to tsrun as its fds 3 and up.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, makeBundle, REPO, runTsrun, sh, TSRUN, type TestBundle } from '../../helpers/bundle.js';
import { cleanupLifecycle, makeRoot, tsrun, uniqueId } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();

/**
 * tsrun with `extra` as its fds 3, 4…; stdout and stderr go to files (a container of `create` or
 * `run -d` keeps them open, so pipes would not end), read once tsrun has exited.
 */
function tsrunWithFds(args: string[], extra: number[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [outPath, errPath] = [join(scratch, `out-${++runs}`), join(scratch, `err-${runs}`)];
  const [out, err] = [openSync(outPath, 'w'), openSync(errPath, 'w')];
  const child = spawn('node', [TSRUN, ...args], { cwd: REPO, stdio: ['ignore', out, err, ...extra], timeout: 20_000, killSignal: 'SIGKILL', env: { ...process.env, ...env } });
  closeSync(out);
  closeSync(err);
  return new Promise((res) => child.on('exit', (code) => res({ code, stdout: readFileSync(outPath, 'utf8'), stderr: readFileSync(errPath, 'utf8') })));
}

let runs = 0;
let scratch = '';
const files: number[] = [];
/** A file of the scratch dir opened for appending (closed after the test). */
function sink(name: string): { fd: number; path: string } {
  const path = join(scratch, name);
  const fd = openSync(path, 'a');
  files.push(fd);
  return { fd, path };
}

/** Writes "three" to fd 3 and "four" to fd 4; says which writes failed. */
const WRITE_34 = '{ echo three >&3 || echo no-3; echo four >&4 || echo no-4; } 2>/dev/null';

const modes: { name: string; env: Record<string, string> }[] = [{ name: 'one stage', env: {} }, { name: 'two stages', env: { TSRUN_TWO_STAGE: '1' } }];

describe.skipIf(skip !== undefined)(`--preserve-fds${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);
  beforeEach(() => { scratch = mkdtempSync(join(tmpdir(), 'tsrun-fds-')); });
  afterEach(() => {
    for (const fd of files.splice(0)) closeSync(fd);
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const mode of modes) {
    it(`run --preserve-fds 2 (${mode.name}): the container writes to the caller's fds 3 and 4`, async () => {
      const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh(WRITE_34, b.marker); } });
      const a = sink('a');
      const b = sink('b');
      const r = await tsrunWithFds(['run', '--preserve-fds', '2', '--bundle', bundle.dir], [a.fd, b.fd], mode.env);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('');
      expect(r.code).toBe(0);
      expect(readFileSync(a.path, 'utf8')).toBe('three\n');
      expect(readFileSync(b.path, 'utf8')).toBe('four\n');
    });
  }

  it('run --preserve-fds 1: fd 3 goes through, fd 4 of the caller does not', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh(WRITE_34, b.marker); } });
    const a = sink('a');
    const b = sink('b');
    const r = await tsrunWithFds(['run', '--preserve-fds', '1', '--bundle', bundle.dir], [a.fd, b.fd]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('no-4\n');
    expect(readFileSync(a.path, 'utf8')).toBe('three\n');
    expect(readFileSync(b.path, 'utf8')).toBe('');
  });

  it('without --preserve-fds no fd of the caller beyond 0-2 reaches the container', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh(WRITE_34, b.marker); } });
    const a = sink('a');
    const r = await tsrunWithFds(['run', '--bundle', bundle.dir], [a.fd]);
    expect(r.stdout).toBe('no-3\nno-4\n');
    expect(readFileSync(a.path, 'utf8')).toBe('');
  });

  it('create --preserve-fds 1, then start: the fd is the caller\'s of create', async () => {
    const bundle: TestBundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('echo from-create >&3', b.marker); } });
    const root = makeRoot();
    const id = uniqueId('fds');
    const a = sink('a');
    const created = await tsrunWithFds(['--root', root, 'create', '--preserve-fds', '1', '--bundle', bundle.dir, id], [a.fd]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect((await tsrun(root, ['start', id])).exitCode).toBe(0);
    for (let i = 0; i < 100 && readFileSync(a.path, 'utf8') === ''; i++) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(a.path, 'utf8')).toBe('from-create\n');
  });

  it('exec --preserve-fds 2: the exec\'d process gets the caller\'s fds 3 and 4', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('sleep 30', b.marker); } });
    const root = makeRoot();
    const id = uniqueId('fds');
    expect((await tsrunWithFds(['--root', root, 'run', '-d', '--bundle', bundle.dir, id], [])).code).toBe(0);
    const a = sink('a');
    const b = sink('b');
    const r = await tsrunWithFds(['--root', root, 'exec', '--preserve-fds', '2', id, 'sh', '-c', WRITE_34], [a.fd, b.fd]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(a.path, 'utf8')).toBe('three\n');
    expect(readFileSync(b.path, 'utf8')).toBe('four\n');
  });

  it('--preserve-fds must be a whole number', async () => {
    const r = await runTsrun(['run', '--preserve-fds', '1.5', '--bundle', '/nonexistent']);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toMatch(/--preserve-fds needs a whole number/);
  });
});
