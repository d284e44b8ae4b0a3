// `--init` (src/api/init.ts, tsrun-init init): a PID 1 that ignores SIGTERM stops on SIGTERM behind
// the init, exiting 143 as under tini; orphans are reaped; the program's status is passed through;
// the init the container runs cannot be written.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, makeBundle, removeAllBundles, REPO, sh, type TestBundle } from '../../helpers/bundle.js';

const skip = cannotRunContainers();
const root = mkdtempSync(join(tmpdir(), 'tsrun-init-root-'));
const TSRUN = join(REPO, 'bin/tsrun');
const INIT = join(REPO, 'native-bindings/build/tsrun-init');

afterEach(removeAllBundles);
afterAll(() => {
  for (const id of spawnSync(TSRUN, ['--root', root, 'list', '-q'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
    spawnSync(TSRUN, ['--root', root, 'delete', '--force', id]);
  }
  rmSync(root, { recursive: true, force: true });
});

function bundleRunning(script: string): TestBundle {
  return makeBundle({ mutate: (spec, b) => { spec.process!.args = sh(script, b.marker); spec.process!.terminal = false; } });
}

/** A tsrun command whose stdio goes to a file (run -d hands its stdio to the container). */
function cli(args: string[]): { status: number | null; output: string } {
  const log = join(root, 'cli.log');
  const fd = openSync(log, 'w');
  const r = spawnSync(TSRUN, ['--root', root, ...args], { stdio: ['ignore', fd, fd], timeout: 20_000 });
  closeSync(fd);
  return { status: r.status, output: readFileSync(log, 'utf8') };
}

/** A foreground `tsrun run`: resolves with its exit status and output. */
function runForeground(args: string[]): { done: Promise<{ status: number | null; output: string }> } {
  const child = spawn(TSRUN, ['--root', root, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return { done: new Promise((resolve) => child.once('exit', (status) => resolve({ status, output }))) };
}

function state(id: string): { status: string; pid: number } | undefined {
  const r = spawnSync(TSRUN, ['--root', root, 'state', id], { encoding: 'utf8' });
  return r.status === 0 ? (JSON.parse(r.stdout) as { status: string; pid: number }) : undefined;
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session, tty_nr, tpgid, …]. */
const statFields = (pid: number): string[] => { const t = readFileSync(`/proc/${pid}/stat`, 'utf8'); return t.slice(t.lastIndexOf(')') + 2).split(' '); };

/** The children of a host pid, with their state letter (R, S, Z…). */
function children(pid: number): { pid: number; state: string; comm: string }[] {
  const list = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return list.flatMap((c) => {
    let stat: string;
    // A child reaped between the two reads (an orphan the init waits for) is no longer a child.
    try { stat = readFileSync(`/proc/${c}/stat`, 'utf8'); } catch { return []; }
    return [{ pid: c, comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]! }];
  });
}

describe.skipIf(skip)('run --init', () => {
  it('a PID 1 that ignores SIGTERM keeps running without init, and stops on SIGTERM with it (exit 143)', async () => {
    const b = bundleRunning('exec sleep 1000');
    const plain = `${b.marker}-plain`;
    expect(cli(['run', '-d', '--bundle', b.dir, plain]).status).toBe(0);
    expect(cli(['kill', plain, 'TERM']).status).toBe(0);
    await sleep(500);
    expect(state(plain)?.status).toBe('running'); // the kernel dropped SIGTERM for PID 1
    expect(cli(['delete', '--force', plain]).status).toBe(0);

    const id = `${b.marker}-init`;
    const run = runForeground(['--init', '--bundle', b.dir, id]);
    await until('the container to run', () => state(id)?.status === 'running');
    expect(cli(['kill', id, 'TERM']).status).toBe(0);
    const r = await run.done;
    expect(r.status, r.output).toBe(143);
    expect(existsSync(join(root, id))).toBe(false);
  });

  it('reaps orphans that the program never waits for', async () => {
    // The program forks a shell that leaves a short sleep behind, then becomes `sleep 1000`, which waits for nobody.
    const b = bundleRunning('sh -c "sleep 0.1 &"; exec sleep 1000');
    const plain = `${b.marker}-plain`;
    expect(cli(['run', '-d', '--bundle', b.dir, plain]).status).toBe(0);
    const withInit = `${b.marker}-init`;
    expect(cli(['run', '-d', '--init', '--bundle', b.dir, withInit]).status).toBe(0);
    // The orphan ends some time after run -d returned (later still on a loaded host): wait for it.
    // Without init the orphan's parent is PID 1, the program: a zombie stays.
    const zombies = (): number => children(state(plain)!.pid).filter((c) => c.state === 'Z').length;
    await until('the orphan of the container without init to end (a zombie)', () => zombies() === 1, 5_000);
    // With it, PID 1 is tsrun-init: once the orphan has ended, only the program is left under it.
    const under = (): (string | boolean)[][] => children(state(withInit)!.pid).map((c) => [c.comm, c.state === 'Z']);
    await until('the orphan of the container with init to be reaped', () => JSON.stringify(under()) === '[["sleep",false]]', 5_000);
    expect(under()).toEqual([['sleep', false]]);
    // And the zombie without init stays: nobody reaps it.
    expect(zombies()).toBe(1);
    expect(cli(['delete', '--force', plain]).status).toBe(0);
    expect(cli(['delete', '--force', withInit]).status).toBe(0);
  });

  it('without a PID namespace the init is a child subreaper: orphans come to it, not to the host\'s init', async () => {
    const b = makeBundle({ mutate: (spec, m) => {
      spec.process!.args = sh('sh -c "sleep 0.6 &"; exec sleep 1000', m.marker);
      spec.process!.terminal = false;
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
    } });
    const id = `${b.marker}-nopidns`;
    expect(cli(['run', '-d', '--init', '--bundle', b.dir, id]).status).toBe(0);
    const init = state(id)!.pid;
    await until('the orphan to reach the init', () => children(init).filter((c) => c.comm === 'sleep').length === 2, 3_000);
    await until('the orphan to be reaped', () => children(init).length === 1, 3_000);
    expect(children(init).map((c) => [c.comm, c.state === 'Z'])).toEqual([['sleep', false]]);
    expect(cli(['delete', '--force', id]).status).toBe(0);
  });

  it('passes the exit status through: a code, and 128+N for a signal', async () => {
    const b = bundleRunning('exit 3');
    expect((await runForeground(['--init', '--bundle', b.dir, `${b.marker}-3`]).done).status).toBe(3);
    const k = bundleRunning('kill -KILL $$');
    expect((await runForeground(['--init', '--bundle', k.dir, `${k.marker}-9`]).done).status).toBe(137);
    const missing = makeBundle({ mutate: (spec) => { spec.process!.args = ['/no/such/program']; spec.process!.terminal = false; } });
    const r = await runForeground(['--init', '--bundle', missing.dir, `${missing.marker}-m`]).done;
    expect(r.status).toBe(127);
  });

  it('the init cannot be written from the container: /dev/init is a read-only bind and /proc/1/exe does not open for writing', async () => {
    const hash = (): string => createHash('sha256').update(readFileSync(INIT)).digest('hex');
    const before = hash();
    const b = bundleRunning([
      'grep " /dev/init " /proc/self/mountinfo | cut -d" " -f6',
      'readlink /proc/1/exe',
      '( echo x >> /proc/1/exe ) 2>/dev/null && echo WROTE-EXE',
      '( echo x >> /dev/init ) 2>/dev/null && echo WROTE-INIT',
      'exit 0',
    ].join('; '));
    const r = await runForeground(['--init', '--bundle', b.dir, `${b.marker}-ro`]).done;
    expect(r.status, r.output).toBe(0);
    const [opts] = r.output.split('\n');
    expect(opts!.split(',')).toContain('ro');
    expect(r.output).not.toMatch(/WROTE/);
    expect(hash()).toBe(before);
  });

  it('with a terminal, the program gets the terminal and a process group of its own (a ^C reaches it from the terminal only, not again through the init)', async () => {
    const b = makeBundle({ mutate: (spec, m) => { spec.process!.terminal = true; spec.process!.args = sh('trap "echo got INT; exit 4" INT; echo ready; while :; do sleep 0.1; done', m.marker); } });
    const id = `${b.marker}-tty`;
    const proc = execa('script', ['-qec', `exec ${TSRUN} --root ${root} run --init --bundle ${b.dir} ${id}`, '/dev/null'], {
      reject: false, timeout: 15_000, killSignal: 'SIGKILL', stdin: 'pipe',
    });
    let seen = '';
    proc.stdout!.on('data', (d: Buffer) => { seen += d.toString(); });
    await until('ready on the terminal', () => seen.includes('ready'));
    const init = state(id)!.pid;
    const program = children(init).find((c) => c.comm === 'sh')!.pid;
    const [, , initGroup, , , foreground] = statFields(init);
    expect(statFields(program)[2]).toBe(String(program)); // its own group
    expect(foreground).toBe(String(program)); // which has the terminal
    expect(initGroup).not.toBe(foreground); // and the init is not in it
    await sleep(200);
    proc.stdin!.write('\x03');
    const r = await proc;
    expect(String(r.stdout)).toMatch(/got INT/);
    expect(r.exitCode).toBe(4);
  });

  it('create --init: the init runs as PID 1 once started', async () => {
    const b = bundleRunning('exec sleep 1000');
    const id = `${b.marker}-create`;
    expect(cli(['create', '--init', '--bundle', b.dir, id]).status).toBe(0);
    expect(cli(['start', id]).status).toBe(0);
    await until('the program', () => children(state(id)!.pid).some((c) => c.comm === 'sleep'));
    expect(readFileSync(`/proc/${state(id)!.pid}/cmdline`, 'utf8').split('\0').slice(0, 3)).toEqual(['/dev/init', 'init', '--']);
    expect(cli(['kill', id, 'TERM']).status).toBe(0);
    await until('the container to stop', () => state(id)?.status === 'stopped');
    expect(cli(['delete', id]).status).toBe(0);
  });
});
