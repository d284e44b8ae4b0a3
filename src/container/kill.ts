// `tsrun kill ID [SIGNAL]`: signal the container's init, or with --all every process in its cgroup.
// Which statuses allow it is the lifecycle table's (state/lifecycle.ts): a stopped container is "not
// running" (containerd reads those words), except for --all, which signals whatever is left in its
// cgroup (without a PID namespace the init's children outlive it) and succeeds, as runc's does.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { loadCgroup } from '../cgroups/index.js';
import { parseSignal } from '../process/signal-names.js';
import * as shim from '../native/shim.js';
import { checkLifecycle } from '../state/lifecycle.js';
import type { ContainerRecord } from '../state/store.js';
import { initAlive } from '../state/status.js';
import { withContainer } from '../state/with-container.js';

export async function killContainer(root: string, id: string, signal = 'SIGTERM', all = false): Promise<void> {
  const sig = parseSignal(signal);
  await withContainer(root, id, all ? 'kill --all' : 'kill', ({ record, status }) => {
    if (all && record.cgroupDir) return signalCgroup(record.cgroupDir, record.cgroupOwnedRoot, sig.number);
    if (status !== 'stopped') signalInit(record, sig.number);
  });
}

function signalCgroup(cgroupDir: string, ownedRoot: string | undefined, signo: number): void {
  if (!existsSync(join(cgroupDir, 'cgroup.procs'))) return; // removed with the container: nothing left
  for (const pid of loadCgroup(cgroupDir, ownedRoot).pids()) {
    try { process.kill(pid, signo); } catch { /* exited meanwhile */ }
  }
}

/**
 * Through a pidfd opened before the init's start time is checked again: if it died since its status
 * was read, its pid may already be someone else's, and the signal must not reach that process. Then
 * the container is stopped, and said so in the table's words.
 */
function signalInit(record: ContainerRecord, signo: number): void {
  const fd = shim.pidfdOpen(record.pid);
  if (fd === undefined) return checkLifecycle('kill', 'stopped', record.id);
  try {
    if (!initAlive(record)) return checkLifecycle('kill', 'stopped', record.id);
    try {
      shim.pidfdSendSignal(fd, signo);
    } catch (err) {
      if (err instanceof TsrunError && err.details.errno === 'ESRCH') return checkLifecycle('kill', 'stopped', record.id);
      throw err;
    }
  } finally {
    shim.closeFd(fd);
  }
}
