// `tsrun delete [--force] ID`: remove a stopped container's cgroup and state. A created or running
// container is refused without --force (and left untouched); with it, everything in the container
// is killed first — cgroup.kill when there is a cgroup — and the init's exit is awaited on a pidfd.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { loadCgroup } from '../cgroups/index.js';
import { removeCallerMounts } from '../rootfs/caller-mounts-host.js';
import { waitForExit } from '../process/exit-wait.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import { containerStatus } from '../state/status.js';
import { runHooksWarning } from './hooks.js';
import { releaseImageBundle } from './image-release.js';
import { OCI_VERSION } from '../version.js';

/**
 * Removes the cgroup, the mounts made in the caller's mount table (a config without a mount
 * namespace) and the state of a container whose init is gone, then runs poststop hooks.
 */
export async function removeContainer(store: StateStore, record: ContainerRecord, warn: (m: string) => void = () => {}, note: (m: string) => void = warn): Promise<void> {
  if (record.cgroupDir && existsSync(join(record.cgroupDir, 'cgroup.procs'))) {
    const cgroup = loadCgroup(record.cgroupDir, record.cgroupOwnedRoot);
    // The usual case, an empty cgroup, goes with one rmdir. Otherwise: without a PID namespace the
    // init's death does not end its children, so what is left is killed first.
    if (!cgroup.removeIfEmpty()) {
      if (cgroup.populated()) await cgroup.kill();
      await cgroup.destroy();
    }
  }
  // Before the state goes: if an unmount fails, `delete` can be run again.
  if (record.callerMounts) removeCallerMounts(record.callerMounts, warn);
  const keptUpper = releaseImageBundle(store.dir(record.id)); // its reference in the image store, if from an image
  store.remove(record.id);
  if (keptUpper) note(`the upper layer of container ${record.id} is kept in ${keptUpper}`);
  if (record.config.hooks?.poststop?.length) {
    const state = { ociVersion: OCI_VERSION, id: record.id, status: 'stopped' as const, bundle: record.bundle, annotations: record.annotations ?? {} };
    await runHooksWarning('poststop', record.config, state, warn);
  }
}

export async function killEverything(record: ContainerRecord): Promise<void> {
  if (record.cgroupDir) {
    try {
      await loadCgroup(record.cgroupDir, record.cgroupOwnedRoot).kill();
    } catch { /* fall back to the init: with a PID namespace its death ends the rest */ }
  }
  try { process.kill(record.pid, 'SIGKILL'); } catch { /* already gone */ }
  if (!(await waitForExit(record.pid, 10_000))) {
    throw new TsrunError(`container ${record.id}: init ${record.pid} did not exit within 10 s of SIGKILL`);
  }
}

export async function deleteContainer(root: string, id: string, force = false, warn: (m: string) => void = () => {}, note: (m: string) => void = warn): Promise<void> {
  const store = new StateStore(root);
  // runc and crun accept `delete --force` of a container they do not know (podman relies on it),
  // including one that a concurrent delete removed while we waited for its lock.
  const gone = (): boolean => force && !store.exists(id);
  if (gone()) {
    store.remove(id);
    return;
  }
  try {
    await store.withLock(id, async () => {
      if (gone()) return;
      const record = store.read(id);
      const status = containerStatus(record, store.dir(id));
      if (status !== 'stopped') {
        if (!force) throw new TsrunError(`cannot delete container ${id} in state ${status}: stop it first or use --force`);
        await killEverything(record);
      }
      await removeContainer(store, record, warn, note);
    });
  } catch (err) {
    if (!gone()) throw err;
  }
}
