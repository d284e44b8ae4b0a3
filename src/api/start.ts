// start(spec): a detached container in this Node process. Created and started with the CLI's code;
// the init is this process's child (reaped here) and dies with it (a parent-death signal: a test
// process that is killed takes its containers' processes along; session()'s reaper removes their
// state). Its stdio are pipes this process reads (Container.logs()); `tsrun run -d` keeps passing
// its own stdio through, as runc does.
import { removeContainer } from '../container/delete.js';
import { startCreated } from '../container/start.js';
import { TsrunError } from '../errors.js';
import { Container } from './container.js';
import { holding, watchExit } from './exit-watch.js';
import { makePipes } from './pipes.js';
import { createWithPipes } from './create-with-pipes.js';
import { counted } from './busy.js';
import type { ContainerSpec, StartOptions } from './types.js';

const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;

export async function start(spec: ContainerSpec, opts: StartOptions = {}): Promise<Container> {
  const { id, warn, pipes, created } = await counted(() => createWithPipes(spec, opts, () => makePipes({}, { unref: true })));
  const { store, record, process: proc, cgroup } = created;
  let reaped = false;
  try {
    await startCreated(store, record, warn, () => proc.go());
    // untilExec reaps an init whose exec failed (a reaped pid may be reused: no signal to it after).
    reaped = true;
    await counted(() => proc.untilExec());
    reaped = false;
    created.refillWarm?.();
  } catch (err) {
    proc.release();
    if (!reaped) {
      try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
      await holding(watchExit(proc.pid)).catch(() => undefined);
    }
    if (store.exists(id)) await removeContainer(store, { ...record, started: true }, warn).catch(() => undefined);
    pipes.abandon();
    created.refillWarm?.();
    throw err;
  }
  const container = new Container({ store, record: { ...record, started: true }, output: pipes.output, exited: watchExit(proc.pid), warn, ...(cgroup ? { cgroup } : {}) });
  if (!opts.wait) return container;
  const timeoutMs = opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  const ac = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      holding(opts.wait.waitUntilReady(container, ac.signal)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TsrunError(`container ${id}: not ready after ${timeoutMs} ms (${opts.wait!.describe})`, { code: 'ETIMEDOUT' })), timeoutMs);
      }),
      // A container that exits before it is ready will never be.
      container.exited.then((e) => { throw new TsrunError(`container ${id}: exited with ${e.signal ?? `status ${e.exitCode}`} before it was ready (${opts.wait!.describe})`, { code: 'EEXITED' }); }),
    ]);
    return container;
  } catch (err) {
    await container.stop({ timeoutMs: 0 }).catch(() => undefined);
    if (err instanceof TsrunError) throw err;
    throw new TsrunError(`container ${id}: not ready (${opts.wait.describe}): ${(err as Error).message}`, { code: 'ENOTREADY', cause: err });
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}
