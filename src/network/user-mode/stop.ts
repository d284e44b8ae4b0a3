// The end of a user-mode network, at delete (or when create fails): the recorded slirp4netns is
// stopped (SIGTERM, SIGKILL if it lingers) through a pidfd opened before its start time is checked,
// so a reused pid is never signalled, and awaited; then the record goes. A helper that was never
// recorded never ran (start.ts: the gate). The container's namespace goes with its last process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../../errors.js';
import type { TraceSink } from '../../process/trace.js';
import { processAlive, signalUntilExit } from '../../state/status.js';
import { removeNetworkRecord, type UserModeRecord } from '../record.js';
import { helperReaped } from './children.js';

/** The last line slirp4netns wrote to its log (why it failed), or ''. */
export function lastLogLine(stateDir: string, r: UserModeRecord): string {
  try {
    return readFileSync(join(stateDir, r.log), 'utf8').trim().split('\n').filter((l) => !/^(sent|received) tapfd/.test(l)).at(-1)?.trim() ?? '';
  } catch {
    return '';
  }
}

async function stopHelper(h: NonNullable<UserModeRecord['helper']>): Promise<void> {
  if (!(await signalUntilExit(h, [{ signal: 15, waitMs: 2_000 }, { signal: 9, waitMs: 10_000 }]))) {
    throw new TsrunError(`slirp4netns (pid ${h.pid}) did not exit within 10 s of SIGKILL`);
  }
  await helperReaped(h.pid);
}

export async function stopUserModeNetwork(stateDir: string, r: UserModeRecord, trace: TraceSink): Promise<void> {
  const t0 = performance.now();
  if (r.helper) await stopHelper(r.helper);
  removeNetworkRecord(stateDir);
  if (r.helper) {
    trace.event({
      who: 'parent', group: 'network', title: `stop slirp4netns (pid ${r.helper.pid})`,
      why: 'the user-mode network ends with the container: its published ports close, and the tap device goes with the namespace', result: 'ok', durationMs: performance.now() - t0,
    });
  }
}

/** `network check`: the helper must still run (it is the container's only way out). */
export function checkUserModeNetwork(r: UserModeRecord): 'checked' {
  if (r.phase !== 'started' || !r.helper) throw new TsrunError(`container ${r.containerId}: its slirp4netns never got ready (delete it)`);
  if (!processAlive(r.helper.pid, r.helper.startTime)) throw new TsrunError(`container ${r.containerId}: its slirp4netns (pid ${r.helper.pid}) is gone: the container has no network (delete it)`);
  return 'checked';
}
