// `tsrun kill ID [SIGNAL]`: signal the container's init, or with --all every process in its cgroup.
import { TsrunError } from '../errors.js';
import { loadCgroup } from '../cgroups/index.js';
import { parseSignal } from '../process/signal-names.js';
import { StateStore } from '../state/store.js';
import { containerStatus } from '../state/status.js';

export async function killContainer(root: string, id: string, signal = 'SIGTERM', all = false): Promise<void> {
  const store = new StateStore(root);
  const sig = parseSignal(signal);
  const record = store.read(id);
  const status = containerStatus(record, store.dir(id));
  if (status === 'stopped') throw new TsrunError(`cannot kill container ${id}: it is not running`);
  // Its init may not exist yet (pid 0 would signal tsrun's own process group): `delete --force` ends a creation.
  if (status === 'creating') throw new TsrunError(`cannot kill container ${id}: it is still being created (use delete --force)`);
  if (all && record.cgroupDir) {
    for (const pid of loadCgroup(record.cgroupDir, record.cgroupOwnedRoot).pids()) {
      try { process.kill(pid, sig.number); } catch { /* exited meanwhile */ }
    }
    return;
  }
  process.kill(record.pid, sig.number);
}
