// run(spec): a one-shot container in this Node process — create, start, wait, delete — with the same
// createContainer/startCreated/removeContainer the CLI's `run` uses, but pipes instead of tsrun's
// stdio and no process-wide signal relay. A failure of tsrun throws a TsrunError; the container's
// own exit status, whatever it is, resolves.
import { removeContainer } from '../container/delete.js';
import { startCreated } from '../container/start.js';
import { interrupted } from './errors.js';
import { holding, watchExit } from './exit-watch.js';
import { armInterrupt } from './interrupt.js';
import { makeCapture, makePipes } from './pipes.js';
import { createWithPipes } from './create-with-pipes.js';
import { counted } from './busy.js';
import type { ContainerSpec, RunOptions, RunResult } from './types.js';

export async function run(spec: ContainerSpec, opts: RunOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  const { id, warn, pipes, created } = await counted(() => createWithPipes(spec, opts, () => (opts.stdout || opts.stderr ? makePipes(opts) : makeCapture(opts)), (name) => {
    if (opts.signal?.aborted) throw interrupted(name, 'abort');
  }));
  const { store, record, process: proc, cgroup } = created;
  // Until it is reaped the pid cannot be reused: SIGKILL to it is safe, and with a PID namespace it ends them all.
  let reaped = false;
  const killInit = (): void => { if (!reaped) try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } };
  const interrupt = armInterrupt(opts, killInit);
  try {
    await startCreated(store, record, warn, () => proc.go());
    // A failing exec (program not found…) is reported here with its step; the init is gone then.
    try {
      await counted(() => proc.untilExec());
    } catch (err) {
      reaped = true; // untilExec reaps the init it lost
      throw err;
    }
    const exit = await holding(watchExit(proc.pid));
    reaped = true;
    // The next container's warm init, now that this one's process is gone (and before its cgroup's
    // removal, so that the parent it shares with it stays).
    created.refillWarm?.();
    const oomKilled = (await cgroup?.oomKilled(exit.signal === 'SIGKILL')) ?? false;
    // A leftover process of a container without a PID namespace keeps the pipes: removal kills it
    // first (and a memory file is complete only then).
    await removeContainer(store, { ...record, started: true }, warn);
    await pipes.finish();
    const output = { stdout: pipes.output.text('stdout'), stderr: pipes.output.text('stderr') };
    if (interrupt.fired) throw interrupted(id, interrupt.fired, opts.timeoutMs, output);
    return { id, ...exit, ...(oomKilled ? { oomKilled } : {}), ...output, durationMs: performance.now() - t0 };
  } catch (err) {
    proc.release();
    // Whatever failed, nothing stays: the init (if still there), its cgroup, its state.
    if (!reaped) {
      killInit();
      await holding(watchExit(proc.pid)).catch(() => undefined);
    }
    if (store.exists(id)) await removeContainer(store, { ...record, started: true }, warn).catch(() => undefined);
    pipes.abandon();
    if (!interrupt.fired) created.refillWarm?.();
    throw err;
  } finally {
    interrupt.clear();
  }
}
