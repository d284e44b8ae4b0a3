// Container.exec: another process in a running container (tsrun exec's startExec), with pipes, a
// wait that leaves the process's signal handlers alone, timeoutMs and AbortSignal.
import { startExec } from '../container/exec.js';
import { interrupted } from './errors.js';
import { holding, watchExit } from './exit-watch.js';
import { armInterrupt } from './interrupt.js';
import { makePipes } from './pipes.js';
import { parseUser } from './spec.js';
import type { ExecOptions, RunResult } from './types.js';

export async function execIn(root: string, id: string, cmd: string[], opts: ExecOptions = {}): Promise<RunResult> {
  const t0 = performance.now();
  if (opts.signal?.aborted) throw interrupted(id, 'abort');
  const pipes = makePipes(opts);
  let started;
  try {
    started = await startExec({
      root, id, args: cmd, stdio: pipes.fds,
      ...(opts.env ? { env: Object.entries(opts.env).map(([k, v]) => `${k}=${v}`) } : {}),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      ...(opts.user !== undefined ? { user: parseUser(opts.user, 'exec user') } : {}),
    });
  } catch (err) {
    pipes.abandon();
    throw err;
  }
  pipes.handedOver();
  const pid = started.pid;
  let reaped = false;
  const interrupt = armInterrupt(opts, () => { if (!reaped) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } });
  try {
    const exit = await holding(watchExit(pid));
    reaped = true;
    await pipes.finish();
    const output = { stdout: pipes.output.text('stdout'), stderr: pipes.output.text('stderr') };
    if (interrupt.fired) throw interrupted(id, interrupt.fired, opts.timeoutMs, output);
    return { id, ...exit, ...output, durationMs: performance.now() - t0 };
  } finally {
    interrupt.clear();
    pipes.abandon();
  }
}
