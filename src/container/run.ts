// `tsrun run`: create the container process from a bundle, relay stdio/terminal and signals, wait
// for it, and leave nothing behind. The mounts live only in the container's mount namespace, so
// they vanish with its last process; what is left on the host is cleaned here.
import { loadBundle } from '../oci/bundle.js';
import { buildPlan } from '../plan/build.js';
import { hostCgroup2Mount, realHost } from '../rootfs/host-view.js';
import { decodeWaitStatus } from '../native/errno.js';
import * as shim from '../native/shim.js';
import { startProcess } from '../process/parent.js';
import { forwardSignals } from '../process/signals.js';
import { relayTerminal } from '../process/terminal.js';
import { noTrace, type TraceSink } from '../process/trace.js';
import { constants } from 'node:os';

export interface RunOptions {
  bundle: string;
  id?: string;
  trace?: TraceSink;
  /** Called with warnings for the user (not errors). */
  warn?: (message: string) => void;
}

export interface RunResult {
  /** The container's exit code, or 128+N when it was killed by signal N (shell convention). */
  exitCode: number;
  signal?: string;
}

function terminalSize(): { rows: number; cols: number } | undefined {
  return process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined;
}

const signalName = (n: number): string =>
  Object.entries(constants.signals).find(([, v]) => v === n)?.[0] ?? `signal ${n}`;

export async function runContainer(opts: RunOptions): Promise<RunResult> {
  const trace = opts.trace ?? noTrace;
  const bundle = loadBundle(opts.bundle);
  const spec = bundle.spec;
  if (spec.linux?.resources?.devices?.length) {
    opts.warn?.('linux.resources.devices is not enforced yet (cgroup device programs are not wired into run)');
  }
  const consoleSize = spec.process?.terminal ? terminalSize() : undefined;
  const cgroup2 = hostCgroup2Mount();
  const plan = buildPlan(spec, {
    bundleDir: bundle.dir, rootfs: bundle.rootfs, host: realHost,
    runningAsRoot: process.getuid?.() === 0,
    ...(cgroup2 ? { cgroup2Mount: cgroup2 } : {}),
    ...(consoleSize ? { consoleSize } : {}),
  });
  const started = await startProcess(plan, { trace, traceSteps: opts.trace !== undefined });
  const relay = started.consoleFd !== undefined ? relayTerminal(started.consoleFd) : undefined;
  const stopForwarding = forwardSignals(started.pid);
  try {
    const status = await shim.waitPid(started.pid);
    if (relay) await Promise.race([relay.drained, new Promise((r) => setTimeout(r, 500))]);
    const { exitCode, signal } = decodeWaitStatus(status);
    return signal !== undefined ? { exitCode: 128 + signal, signal: signalName(signal) } : { exitCode: exitCode ?? 0 };
  } finally {
    stopForwarding();
    relay?.stop();
  }
}
