// run(): one-shot containers in this test process, through pipes; exit codes resolve, tsrun's own
// failures throw TsrunError; timeoutMs and AbortSignal kill and delete; 50 at once.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { run, TsrunError, type OciSpec } from '../../src/api/index.js';
import { REPO } from '../helpers/bundle.js';
import { containersIn, leftovers, SAMPLE_BUNDLE, skipReason, testRoot } from './helpers.js';

const t = testRoot();
afterAll(() => t.remove());
const root = t.root;

describe.skipIf(skipReason)('run()', () => {
  it('resolves with the exit code, stdout and stderr (memory files tsrun reads at the end, never the caller\'s fds), and removes the container', async () => {
    const r = await run({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', 'echo out; echo err >&2; ls -l /proc/self/fd/1 /proc/self/fd/2; exit 3'] }, { root });
    expect(r.exitCode).toBe(3);
    expect(r.signal).toBeUndefined();
    expect(r.stdout).toMatch(/^out\n/);
    expect(r.stdout).toMatch(/\/proc\/self\/fd\/1 -> \/memfd:stdout \(deleted\)/);
    expect(r.stdout).toMatch(/\/proc\/self\/fd\/2 -> \/memfd:stderr \(deleted\)/);
    expect(r.stderr).toBe('err\n');
    expect(r.durationMs).toBeGreaterThan(0);
    expect(leftovers(root, r.id)).toEqual([]);
  });

  it('a container of a process that ran others before holds no fd but its stdio (the device program tsrun keeps loaded stays outside)', async () => {
    await run({ bundle: SAMPLE_BUNDLE, cmd: ['true'] }, { root });
    // ls opens /proc/self/fd itself: that one is its own (3).
    const r = await run({ bundle: SAMPLE_BUNDLE, cmd: ['ls', '/proc/self/fd'] }, { root });
    expect(r.stdout.split('\n').filter((l) => l !== '').sort()).toEqual(['0', '1', '2', '3']);
  });

  it('all of a large output, stdout and stderr apart; more than a string holds (a seek far past the end) is refused and nothing stays', async () => {
    const r = await run({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" a; head -c 70000 /dev/zero | tr "\\0" b >&2'] }, { root });
    expect(r.stdout).toBe('a'.repeat(3_000_000));
    expect(r.stderr).toBe('b'.repeat(70_000));
    const err = await run({ bundle: SAMPLE_BUNDLE, id: 'api-sparse-out', cmd: ['dd', 'if=/dev/zero', 'of=/proc/self/fd/1', 'bs=1', 'count=1', 'seek=3000000000', 'conv=notrunc'] }, { root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TsrunError);
    expect((err as TsrunError).code).toBe('E2BIG');
    expect((err as TsrunError).message).toMatch(/stdout holds 3000000001 bytes/);
    expect(leftovers(root, 'api-sparse-out')).toEqual([]);
  });

  it('exit 1 resolves with exitCode 1 (a container\'s failure is not an error)', async () => {
    const r = await run({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', 'exit 1'] }, { root });
    expect(r.exitCode).toBe(1);
  });

  it('a failure of tsrun throws a TsrunError naming the field, and leaves nothing', async () => {
    const err = await run({ bundle: SAMPLE_BUNDLE, id: 'api-bad-program', cmd: ['/no/such/program'] }, { root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TsrunError);
    const e = err as TsrunError;
    expect(e.field).toBe('process.args');
    expect(e.errno).toBe('ENOENT');
    expect(e.syscall).toBe('access');
    expect(typeof e.step).toBe('number');
    expect(e.code).toBe('ENOENT');
    expect(leftovers(root, 'api-bad-program')).toEqual([]);
    const bad = await run({ bundle: SAMPLE_BUNDLE, user: 'nobody' }, { root }).catch((x: unknown) => x) as TsrunError;
    expect(bad).toBeInstanceOf(TsrunError);
    expect([bad.field, bad.code]).toEqual(['user', 'ECONFIG']);
  });

  it('a signal that kills the process resolves with 128+N and its name', async () => {
    // Without a PID namespace of its own (config(), the escape hatch), sh is no namespace's init, which SIGKILL from inside could not end.
    const noPidNs = { config: (s: OciSpec) => ({ ...s, linux: { ...s.linux, namespaces: (s.linux?.namespaces ?? []).filter((n) => n.type !== 'pid') } }) };
    const r = await run({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', 'kill -9 $$'], ...noPidNs }, { root });
    expect([r.exitCode, r.signal]).toEqual([137, 'SIGKILL']);
  });

  it('input goes to stdin; stdout/stderr streams get a copy as it comes (through pipes)', async () => {
    const out = new PassThrough();
    const copied: Buffer[] = [];
    out.on('data', (c: Buffer) => copied.push(c));
    const r = await run({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', 'tr a-z A-Z; ls -l /proc/self/fd/1 >&2'] }, { root, input: 'hello\n', stdout: out });
    expect(r.stdout).toBe('HELLO\n');
    expect(Buffer.concat(copied).toString()).toBe('HELLO\n');
    expect(r.stderr).toMatch(/\/proc\/self\/fd\/1 -> pipe:\[\d+\]/);
    // Without input, stdin is empty (not the test process's).
    const empty = await run({ bundle: SAMPLE_BUNDLE, cmd: ['sh', '-c', 'cat; echo end'] }, { root });
    expect(empty.stdout).toBe('end\n');
  });

  it('timeoutMs kills the container, deletes it, and rejects with ETIMEDOUT and the output so far', async () => {
    // (No bound on the time: a timeout that did not kill would let the sleep end, and run resolve.)
    const err = await run({ bundle: SAMPLE_BUNDLE, id: 'api-timeout', cmd: ['sh', '-c', 'echo started; sleep 30'] }, { root, timeoutMs: 300 }).catch((e: unknown) => e) as TsrunError & { stdout?: string };
    expect(err).toBeInstanceOf(TsrunError);
    expect(err.code).toBe('ETIMEDOUT');
    expect(err.stdout).toBe('started\n');
    expect(leftovers(root, 'api-timeout')).toEqual([]);
  });

  it('an AbortSignal kills and deletes likewise (ABORT_ERR); an aborted signal never creates', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const err = await run({ bundle: SAMPLE_BUNDLE, id: 'api-abort', cmd: ['sleep', '30'] }, { root, signal: ac.signal }).catch((e: unknown) => e) as TsrunError;
    expect(err.code).toBe('ABORT_ERR');
    expect(leftovers(root, 'api-abort')).toEqual([]);
    const pre = await run({ bundle: SAMPLE_BUNDLE, id: 'api-abort2', cmd: ['true'] }, { root, signal: AbortSignal.abort() }).catch((e: unknown) => e) as TsrunError;
    expect(pre.code).toBe('ABORT_ERR');
    expect(leftovers(root, 'api-abort2')).toEqual([]);
  });

  it('the CLI\'s run -d keeps runc\'s semantics: its own stdio is handed to the container (the library\'s pipes are the library\'s only)', () => {
    const out = join(root, 'run-d.out');
    // A bundle's own process.args (the CLI takes a command after -- only for an image).
    const bundle = mkdtempSync(join(root, 'bundle-'));
    const config = JSON.parse(readFileSync(join(SAMPLE_BUNDLE, 'config.json'), 'utf8')) as OciSpec;
    config.process!.args = ['sh', '-c', 'echo from the container; ls -l /proc/self/fd/1'];
    config.root = { path: join(SAMPLE_BUNDLE, 'rootfs'), readonly: true };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const fd = openSync(out, 'w');
    try {
      execFileSync(join(REPO, 'bin/tsrun'), ['--root', root, 'run', '-d', '--bundle', bundle, 'api-cli-run-d'], { stdio: ['ignore', fd, 'inherit'] });
    } finally {
      closeSync(fd);
    }
    const until = Date.now() + 10_000;
    while (!readFileSync(out, 'utf8').includes('/proc/self/fd/1') && Date.now() < until) execFileSync('sleep', ['0.05']);
    expect(readFileSync(out, 'utf8')).toMatch(new RegExp(`^from the container\\n.*/proc/self/fd/1 -> ${out}`, 's'));
    execFileSync(join(REPO, 'bin/tsrun'), ['--root', root, 'delete', '-f', 'api-cli-run-d']);
  });

  it('works from a worker thread (vitest --pool=threads), where no signal arrives: exits are polled', async () => {
    const worker = new Worker(`
      const { run } = await import(${JSON.stringify(join(REPO, 'dist/api/index.js'))});
      const { parentPort } = await import('node:worker_threads');
      const rs = [];
      for (let i = 0; i < 3; i++) rs.push(await run({ bundle: ${JSON.stringify(SAMPLE_BUNDLE)}, cmd: ['sh', '-c', 'echo ' + i + '; exit ' + i] }, { root: ${JSON.stringify(root)} }));
      parentPort.postMessage(rs.map((r) => [r.stdout, r.exitCode]));`, { eval: true, type: 'module' } as WorkerOptions);
    const got = await new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    await worker.terminate();
    expect(got).toEqual([['0\n', 0], ['1\n', 1], ['2\n', 2]]);
  });

  it('50 concurrent runs from one process each get their own output, and nothing stays', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      run({ bundle: SAMPLE_BUNDLE, id: `api-many-${i}`, cmd: ['sh', '-c', `echo ${i}; exit ${i % 7}`] }, { root })));
    results.forEach((r, i) => {
      expect([r.id, r.stdout, r.exitCode]).toEqual([`api-many-${i}`, `${i}\n`, i % 7]);
    });
    expect(containersIn(root).filter((d) => d.startsWith('api-many-'))).toEqual([]);
    for (let i = 0; i < 50; i++) expect(leftovers(root, `api-many-${i}`)).toEqual([]);
  });
});
