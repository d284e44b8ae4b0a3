// start(): detached containers whose output this process reads; exec, state, stop (TERM, then KILL
// after the timeout), `await using`, and the Wait strategies against real services.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { start, Wait, TsrunError, SESSION_ANNOTATION, type Container } from '../../src/api/index.js';
import { REPO } from '../helpers/bundle.js';
import { leftovers, SAMPLE_BUNDLE, skipReason, testRoot } from './helpers.js';

const t = testRoot();
// A PID 1 that ends at SIGTERM (sh's trap runs once `wait` returns): without one, the kernel drops
// TERM for a namespace's init, and stop() waits its whole timeout before SIGKILL (the test below).
const idle = (first = 'true'): string => `trap 'exit 0' TERM; ${first}; sleep 600 & wait`;
const IDLE = idle();
afterAll(() => t.remove());
const root = t.root;

/** The pid the container's init has in the test process's view, from state.json (the record start wrote). */
const recordOf = (id: string): { pid: number; cgroupDir?: string } => JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { pid: number; cgroupDir?: string };

describe.skipIf(skipReason)('start()', () => {
  it('runs detached: id, pid, state, exec, logs of its pipes; stop deletes it', async () => {
    const c = await start({ bundle: SAMPLE_BUNDLE, id: 'api-start-1', cmd: ['sh', '-c', idle('echo one; echo two >&2; echo three')] }, { root });
    expect(c.id).toBe('api-start-1');
    expect(c.pid).toBe(recordOf(c.id).pid);
    expect(c.state().status).toBe('running');
    const lines: string[] = [];
    for await (const line of c.logs()) {
      lines.push(line);
      if (lines.length === 3) break;
    }
    expect(lines.sort()).toEqual(['one', 'three', 'two']);
    expect(c.logs({ stream: 'stdout' }).text()).toBe('one\nthree\n');
    expect(c.logs({ stream: 'stderr' }).text()).toBe('two\n');
    const e = await c.exec(['sh', '-c', 'echo $((6*7)) $FOO; exit 4'], { env: { FOO: 'bar' } });
    expect([e.stdout, e.exitCode]).toEqual(['42 bar\n', 4]);
    const piped = await c.exec(['cat'], { input: 'through stdin' });
    expect(piped.stdout).toBe('through stdin');
    const as = await c.exec(['sh', '-c', 'echo $(id -u):$(id -g) $(pwd)'], { user: '1000:1001', cwd: '/etc' });
    expect(as.stdout).toBe('1000:1001 /etc\n');
    const slow = await c.exec(['sleep', '30'], { timeoutMs: 200 }).catch((e: unknown) => e) as TsrunError;
    expect(slow.code).toBe('ETIMEDOUT');
    expect(c.state().status).toBe('running'); // only the exec'd process was killed
    // Its trap ends it at SIGTERM, as a service would.
    const exit = await c.stop({ timeoutMs: 5_000 });
    expect(exit).toEqual({ exitCode: 0 });
    expect(c.state().status).toBe('stopped');
    expect(leftovers(root, c.id)).toEqual([]);
    // Idempotent.
    expect(await c.stop()).toEqual(exit);
  });

  it('logs() of a container that exits on its own ends with its last line; a non-following read ends at once', async () => {
    const c = await start({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', 'for i in 1 2 3; do echo line $i; done; printf tail'] }, { root });
    const lines: string[] = [];
    for await (const l of c.logs()) lines.push(l);
    expect(lines).toEqual(['line 1', 'line 2', 'line 3', 'tail']);
    expect((await c.exited).exitCode).toBe(0);
    expect(c.state().status).toBe('stopped');
    const again: string[] = [];
    for await (const l of c.logs({ follow: false })) again.push(l);
    expect(again).toHaveLength(4);
    await c.stop();
    expect(leftovers(root, c.id)).toEqual([]);
  });

  it('stop() of a PID 1 that ignores SIGTERM SIGKILLs it after timeoutMs, then deletes', async () => {
    const c = await start({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 1; done"] }, { root, wait: Wait.forLog('ready') });
    const t0 = performance.now();
    const exit = await c.stop({ timeoutMs: 500 });
    const took = performance.now() - t0;
    expect(exit.signal).toBe('SIGKILL');
    expect(took).toBeGreaterThanOrEqual(450);
    // (No upper bound on the time: a stop that never SIGKILLs never returns, and the test times out.)
    expect(leftovers(root, c.id)).toEqual([]);
  });

  it('await using stops and deletes at the end of the scope', async () => {
    let id = '';
    {
      await using c = await start({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', IDLE] }, { root });
      id = c.id;
      expect(c.state().status).toBe('running');
    }
    expect(leftovers(root, id)).toEqual([]);
  });

  it('Wait.forLog(re, times) waits for the n-th match', async () => {
    await using c = await start({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', idle('echo tick; sleep 0.2; echo tick; sleep 0.2; echo tick')] }, { root, wait: Wait.forLog(/^tick$/, 3) });
    expect(c.logs().text()).toBe('tick\ntick\ntick\n');
  });

  it('Wait.forCommand waits until the command exits 0', async () => {
    await using c = await start({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', idle('sleep 0.3; touch /tmp/ready')], mounts: [{ type: 'tmpfs', target: '/tmp' }] }, { root, wait: Wait.forCommand(['test', '-e', '/tmp/ready']) });
    expect((await c.exec(['ls', '/tmp'])).stdout).toBe('ready\n');
  });

  it('Wait.forPort and Wait.forHttp look inside the container\'s network namespace; Wait.all combines', async () => {
    const web = {
      // lo is up by itself (the loopbackUp step). The service serves /srv after a delay; /srv exists in
      // the sample, so the shared bundle's rootfs gets no new directory.
      bundle: SAMPLE_BUNDLE, mounts: [{ type: 'tmpfs' as const, target: '/srv' }],
      cmd: ['sh', '-c', idle('sleep 0.3; echo hello > /srv/index.html; httpd -p 8080 -h /srv')],
    };
    await using c = await start(web, { root, wait: Wait.all(Wait.forPort(8080), Wait.forHttp('/index.html', 8080)), startupTimeoutMs: 15_000 });
    expect((await c.exec(['wget', '-q', '-O', '-', 'http://127.0.0.1:8080/index.html'])).stdout).toBe('hello\n');
  });

  it('a wait that cannot succeed: startupTimeoutMs rejects and stops the container; an exit before ready rejects at once', async () => {
    const err = await start({ bundle: SAMPLE_BUNDLE, id: 'api-never-ready', cmd: ['sleep', '60'] }, { root, wait: Wait.forPort(9), startupTimeoutMs: 300 }).catch((e: unknown) => e) as TsrunError;
    expect(err).toBeInstanceOf(TsrunError);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.message).toContain('port 9');
    expect(leftovers(root, 'api-never-ready')).toEqual([]);
    // At once, on the exit (EEXITED) or on the end of its output (ENOTREADY), whichever start() sees
    // first: not the startup timeout's ETIMEDOUT, 30 s later.
    const exited = await start({ bundle: SAMPLE_BUNDLE, id: 'api-exits', cmd: ['true'] }, { root, wait: Wait.forLog('never'), startupTimeoutMs: 30_000 }).catch((e: unknown) => e) as TsrunError;
    expect(exited).toBeInstanceOf(TsrunError);
    expect(['EEXITED', 'ENOTREADY']).toContain(exited.code);
    expect(leftovers(root, 'api-exits')).toEqual([]);
  });

  it('a tsrun failure throws a TsrunError and leaves nothing', async () => {
    const err = await start({ bundle: SAMPLE_BUNDLE, id: 'api-start-bad', cmd: ['/nope'] }, { root }).catch((e: unknown) => e) as TsrunError;
    expect([err.field, err.errno]).toEqual(['process.args', 'ENOENT']);
    expect(leftovers(root, 'api-start-bad')).toEqual([]);
  });

  it('a session (session()\'s Session, or its shape) gives the root and marks the container with its annotation', async () => {
    const session = { id: 'sess-test-1', root: `${root}/session` };
    await using c = await start({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', IDLE] }, { session });
    expect(c.root).toBe(session.root);
    expect(c.state().annotations).toMatchObject({ [SESSION_ANNOTATION]: 'sess-test-1' });
    await using d = await start({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', IDLE] }, { session: { ...session, annotations: { 'x.session': 'given' } } });
    expect(d.state().annotations).toMatchObject({ 'x.session': 'given' });
  });

  it('init: true puts tsrun-init in front: stop() of a program that ignores SIGTERM as PID 1 ends it at once', async () => {
    const c = await start({ bundle: SAMPLE_BUNDLE, init: true, cmd: ['sleep', '600'] }, { root });
    expect((await c.exec(['cat', '/proc/1/cmdline'])).stdout.split('\0').slice(0, 3)).toEqual(['/dev/init', 'init', '--']);
    const exit = await c.stop({ timeoutMs: 5_000 });
    // At once: the SIGTERM ended it (exit 143), not the SIGKILL that stop() sends after timeoutMs.
    expect(exit.exitCode).toBe(143); // the init exits as its program did: killed by SIGTERM
    expect(exit.signal).toBeUndefined();
    expect(leftovers(root, c.id)).toEqual([]);
  });

  it('a script that forgets stop() still ends, and its container\'s processes die with it (the state is the session\'s to sweep)', () => {
    const script = `const { start } = await import(${JSON.stringify(join(REPO, 'dist/api/index.js'))});
      const c = await start({ bundle: ${JSON.stringify(SAMPLE_BUNDLE)}, id: 'api-forgotten', cmd: ['sleep', '600'] }, { root: ${JSON.stringify(root)} });
      console.log(c.pid);`;
    // It ends: execFileSync fails a script still running after 20 s.
    const pid = Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 }).trim());
    expect(pid).toBeGreaterThan(0);
    // Its parent is gone: the parent-death signal killed the init (reaped by init of the host, or a subreaper).
    const gone = (): boolean => { try { return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes('(sleep)'); } catch { return true; } };
    const until = Date.now() + 5_000;
    while (!gone() && Date.now() < until) execFileSync('sleep', ['0.05']);
    expect(gone()).toBe(true);
    expect(JSON.parse(readFileSync(join(root, 'api-forgotten', 'state.json'), 'utf8')).id).toBe('api-forgotten');
    execFileSync(join(REPO, 'bin/tsrun'), ['--root', root, 'delete', '-f', 'api-forgotten']);
    expect(leftovers(root, 'api-forgotten')).toEqual([]);
  });

  it('containers started concurrently each keep their own output', async () => {
    const cs: Container[] = await Promise.all(Array.from({ length: 10 }, (_, i) => start({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', idle(`echo c${i}`)] }, { root, wait: Wait.forLog(`c${i}`) })));
    cs.forEach((c, i) => expect(c.logs().text()).toBe(`c${i}\n`));
    await Promise.all(cs.map((c) => c.stop({ timeoutMs: 2_000 })));
    for (const c of cs) expect(leftovers(root, c.id)).toEqual([]);
  });
});
