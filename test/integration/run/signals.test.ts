// Signals and a foreground run: 128+N when the container is killed by signal N, signals sent to
// `tsrun run` reach the container, and nothing survives tsrun itself being killed.
import { constants } from 'node:os';
import { basename } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cannotRunContainers, runTsrun, catchesSignal, childrenOf, containerTestHooks, makeBundle, poll, processesMatching, sh, startTsrun,
  stateEntries, waitForBuild, waitForOutput,
} from '../../helpers/bundle.js';

const skip = cannotRunContainers();

/** The container's init as seen from the host: the process whose argv carries the bundle's marker. */
async function containerInit(marker: string, tsrunPid: number): Promise<number> {
  return poll(() => {
    const kids = childrenOf(tsrunPid);
    return processesMatching(marker).find((p) => kids.includes(p.pid))?.pid;
  }, 5_000, `the container's init (a child of tsrun ${tsrunPid} with ${marker} in its argv)`);
}

const LOOP = 'while :; do sleep 0.1; done';

/**
 * Waits until tsrun has its forwarding handlers installed, so that the forwarding tests do not
 * depend on a start-up race (which has its own test below). Node catches SIGINT/SIGTERM (and SIGUSR1
 * for the inspector) from its own start, so the witness is SIGUSR2, which only forwarding catches;
 * all forwarded signals get their handlers in one synchronous loop (src/process/signals.ts).
 */
async function forwardingReady(pid: number): Promise<void> {
  await poll(() => (catchesSignal(pid, constants.signals.SIGUSR2) ? true : undefined), 5_000, `tsrun ${pid} to catch SIGUSR2 (forwarding installed)`);
}

describe.skipIf(skip !== undefined)(`tsrun run: signals${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  beforeEach(waitForBuild);

  it('the container killed with SIGKILL from the host → tsrun exits 137', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh(`echo ready; ${LOOP}`, b.marker); } });
    const proc = startTsrun(['run', '--bundle', bundle.dir]);
    await waitForOutput(proc, 'ready');
    const init = await containerInit(bundle.marker, proc.pid!);
    process.kill(init, 'SIGKILL');
    const r = await proc;
    expect(String(r.stderr)).toBe('');
    expect(r.exitCode).toBe(137);
  });

  it('a container whose init is `sleep` itself (not a shell), killed with SIGKILL → 137', async () => {
    const bundle = makeBundle({ mutate: (s) => { s.process!.args = ['sleep', '3600']; } });
    const proc = startTsrun(['run', '--bundle', bundle.dir]);
    const init = await poll(
      () => processesMatching('sleep 3600').find((p) => p.cmdline === 'sleep 3600' && childrenOf(proc.pid!).includes(p.pid))?.pid,
      5_000, 'the container\'s `sleep 3600` as a child of tsrun',
    );
    process.kill(init, 'SIGKILL');
    const r = await proc;
    expect(String(r.stderr)).toBe('');
    expect(r.exitCode).toBe(137);
  });

  it.each([
    ['SIGTERM', 'TERM', 7],
    ['SIGINT', 'INT', 8],
    ['SIGHUP', 'HUP', 9],
    ['SIGUSR1', 'USR1', 10],
    ['SIGQUIT', 'QUIT', 11],
  ] as const)('%s sent to tsrun reaches the container (trap prints and exits)', async (signal, trapName, code) => {
    const bundle = makeBundle({
      mutate: (s, b) => {
        s.process!.args = sh(`trap "echo got ${trapName}; exit ${code}" ${trapName}; echo ready; ${LOOP}`, b.marker);
      },
    });
    const proc = startTsrun(['run', '--bundle', bundle.dir]);
    await waitForOutput(proc, 'ready');
    await forwardingReady(proc.pid!);
    proc.kill(signal);
    const r = await proc;
    expect({ stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode, signal: r.signal })
      .toEqual({ stdout: `ready\ngot ${trapName}\n`, stderr: '', exitCode: code, signal: undefined });
  });

  it('several signals in a row are each forwarded once', async () => {
    const bundle = makeBundle({
      mutate: (s, b) => {
        s.process!.args = sh(`n=0; trap 'n=$((n+1)); echo usr1 $n' USR1; trap 'echo term; exit $n' TERM; echo ready; ${LOOP}`, b.marker);
      },
    });
    const proc = startTsrun(['run', '--bundle', bundle.dir]);
    await waitForOutput(proc, 'ready');
    await forwardingReady(proc.pid!);
    for (let i = 1; i <= 3; i++) {
      proc.kill('SIGUSR1');
      await waitForOutput(proc, `usr1 ${i}`);
    }
    proc.kill('SIGTERM');
    const r = await proc;
    expect(String(r.stdout)).toBe('ready\nusr1 1\nusr1 2\nusr1 3\nterm\n');
    expect(r.exitCode).toBe(3);
  });

  it('SIGTERM to tsrun when the container\'s PID 1 has no handler: ignored by the kernel, the container keeps running', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh(`echo ready; ${LOOP}`, b.marker); } });
    const proc = startTsrun(['run', '--bundle', bundle.dir]);
    await waitForOutput(proc, 'ready');
    await forwardingReady(proc.pid!);
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // tsrun did not die of the signal itself: it forwarded it and keeps waiting.
    expect(proc.exitCode).toBeNull();
    expect(processesMatching(bundle.marker).length).toBeGreaterThan(0);
    const init = await containerInit(bundle.marker, proc.pid!);
    process.kill(init, 'SIGKILL');
    const r = await proc;
    expect(r.exitCode).toBe(137);
  });

  it.each([
    ['root', 0],
    ['uid 1000', 1000],
  ] as const)('tsrun killed with SIGKILL (container user %s): the container does not outlive it', async (_what, uid) => {
    const bundle = makeBundle({
      mutate: (s, b) => {
        s.process!.user = { uid, gid: uid };
        s.process!.args = sh(`echo ready; ${LOOP}`, b.marker);
      },
    });
    const proc = startTsrun(['run', '--bundle', bundle.dir]);
    await waitForOutput(proc, 'ready');
    await containerInit(bundle.marker, proc.pid!);
    proc.kill('SIGKILL');
    // Not `await proc`: execa waits for stdout to close, and a surviving container keeps it open.
    await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(undefined) : proc.once('exit', r)));
    // The hooks also check this; polling here gives the precise message.
    const left = await poll(() => (processesMatching(bundle.marker).length === 0 ? true : undefined), 3_000, 'the container to die with tsrun')
      .catch(() => processesMatching(bundle.marker));
    // A SIGKILLed tsrun cannot clean up (runc leaves its state too): what a user does then is
    // `delete -f`, which also removes the container's cgroup (removing the state dir alone leaked it).
    for (const e of stateEntries(`${basename(bundle.dir)}-`)) {
      const d = await runTsrun(['delete', '-f', basename(e)]);
      expect(d.exitCode).toBe(0);
    }
    expect(left).toBe(true);
  });

  // The container runs as soon as it exec'd; tsrun must already forward by then, or a ^C / SIGTERM
  // in that window kills tsrun with the default action. Without a PID namespace the container sees
  // tsrun as its parent ($PPID) and can send the signal itself, first thing after exec.
  it('a signal that reaches tsrun right after the container exec\'d is forwarded, not fatal to tsrun', async () => {
    // The outcome of a race: try several times (each run takes ~150 ms).
    const N = 10;
    const results: unknown[] = [];
    for (let i = 0; i < N; i++) {
      const bundle = makeBundle({
        mutate: (s, b) => {
          s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
          s.process!.args = sh(`trap "echo got TERM; exit 7" TERM; kill -TERM $PPID; ${LOOP}`, b.marker);
        },
      });
      const proc = startTsrun(['run', '--bundle', bundle.dir], { timeout: 5_000 });
      const r = await proc;
      results.push({ stdout: String(r.stdout), exitCode: r.exitCode, signal: r.signal });
      bundle.remove();
    }
    expect(results).toEqual(Array(N).fill({ stdout: 'got TERM\n', exitCode: 7, signal: undefined }));
  });
});
