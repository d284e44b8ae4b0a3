// Waiting for a container process in the foreground (`run`, `exec`): relay its pty while it runs,
// reap it, and turn its wait status into the shell's exit code convention.
import { decodeWaitStatus } from '../native/errno.js';
import { waitChild } from './child-exit.js';
import { signalName } from './signal-names.js';
import { relayTerminal } from './terminal.js';

export interface ProcessExit {
  /** The exit code, or 128+N when the process was killed by signal N. */
  exitCode: number;
  signal?: string;
}

/** After the process exits, its last output may still sit in the pty: wait this long for EIO at most. */
const PTY_DRAIN_MS = 500;

export async function waitForeground(pid: number, consoleFd?: number): Promise<ProcessExit> {
  const relay = consoleFd !== undefined ? relayTerminal(consoleFd) : undefined;
  try {
    const status = decodeWaitStatus(await waitChild(pid));
    if (relay) await Promise.race([relay.drained, new Promise((r) => setTimeout(r, PTY_DRAIN_MS))]);
    return status.signal !== undefined
      ? { exitCode: 128 + status.signal, signal: signalName(status.signal) }
      : { exitCode: status.exitCode ?? 0 };
  } finally {
    relay?.stop();
  }
}
