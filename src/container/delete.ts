// `tsrun delete [--force] ID`: remove a stopped container's cgroup and state. A created container is
// killed and removed, as runc's delete does; a running or paused one is refused without --force (and
// left untouched). Killing is cgroup.kill when there is a cgroup, and the init's exit is awaited on a
// pidfd. Which status allows what: state/lifecycle.ts.
//
// A create that was killed half-way left a record naming what it had made (state/store.ts,
// `creator`): that container is stopped, and delete removes it all, killing its init if it got that
// far. One still being created is refused without --force; with it, the tsrun creating it is killed
// first (as runc's delete kills a creating container's init, failing its create), then the rest.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors.js';
import { detectCgroupHost, loadCgroup, loadContainerCgroup } from '../cgroups/index.js';
import { resolveCgroupPath } from '../cgroups/path.js';
import { removeCallerMounts } from '../rootfs/caller-mounts-host.js';
import { waitForExit } from '../process/exit-wait.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import { containerStatus, initAlive, signalUntilExit } from '../state/status.js';
import { withContainer } from '../state/with-container.js';
import { quietWarn } from './diagnostics.js';
import { runHooksWarning } from './hooks.js';
import { releaseImageBundle } from './image-release.js';
import { removeShiftedTree } from '../image/index.js';
import { OCI_VERSION } from '../version.js';
import { noTrace, type TraceSink } from '../process/trace.js';

/**
 * Removes the cgroup, the mounts made in the caller's mount table (a config without a mount
 * namespace) and the state of a container whose init is gone, then runs poststop hooks.
 */
export async function removeContainer(store: StateStore, record: ContainerRecord, warn: (m: string) => void = () => {}, note: (m: string) => void = warn, opts: { force?: boolean; trace?: TraceSink } = {}): Promise<void> {
  // CNI DEL first (a container on a network has network.json): if a plugin fails, the state stays and
  // `delete` can be run again.
  if (existsSync(join(store.dir(record.id), 'network.json'))) await (await import('../network/phase.js')).detachNetwork(store.dir(record.id), { trace: opts.trace ?? noTrace, ...(opts.force ? { force: true } : {}) });
  const cgroup = await loadContainerCgroup(record);
  if (cgroup) {
    // The usual case, an empty cgroup, goes with one rmdir (a systemd scope: systemd stops it).
    // Otherwise: without a PID namespace the init's death does not end its children, so what is left
    // is killed first.
    if (!cgroup.removeIfEmpty()) {
      if (cgroup.populated()) await cgroup.kill();
      await cgroup.destroy();
    }
  }
  // Before the state goes: if an unmount fails, `delete` can be run again.
  if (record.callerMounts) removeCallerMounts(record.callerMounts, warn);
  // Its reference in the image store, if from an image; a create that never finished keeps nothing.
  const keptUpper = releaseImageBundle(store.dir(record.id), record.creator ? { keepUpper: false } : {});
  await removeShiftedOverlay(store.dir(record.id));
  store.remove(record.id);
  if (keptUpper) note(`the upper layer of container ${record.id} is kept in ${keptUpper}`);
  // As a failed create does: poststop hooks only if the container process was made.
  if (record.config.hooks?.poststop?.length && record.pid > 0) {
    const state = { ociVersion: OCI_VERSION, id: record.id, status: 'stopped' as const, bundle: record.bundle, annotations: record.annotations ?? {} };
    await runHooksWarning('poststop', record.config, state, warn);
  }
}

/**
 * A user's container from an image: what its other ids (the subordinate ones) made in its upper dir
 * the user may not remove; that goes in a user namespace with the same maps (image/shifted-files.ts).
 * Root, and a container from a bundle, have nothing to do here.
 */
async function removeShiftedOverlay(stateDir: string): Promise<void> {
  if ((process.geteuid?.() ?? 0) === 0 || !existsSync(join(stateDir, 'upper'))) return;
  // (work/ holds only what overlayfs made with the mounter's ids, the user's: store.remove takes it.)
  await removeShiftedTree(join(stateDir, 'upper'));
}

export async function killEverything(record: ContainerRecord): Promise<void> {
  if (record.cgroupDir && existsSync(join(record.cgroupDir, 'cgroup.procs'))) {
    try {
      await loadCgroup(record.cgroupDir, record.cgroupOwnedRoot).kill();
    } catch { /* fall back to the init: with a PID namespace its death ends the rest */ }
  }
  // Only the recorded init itself: pid 0 (not made yet) would signal tsrun's own process group,
  // and a pid whose start time differs belongs to someone else now.
  if (!initAlive(record)) return;
  try { process.kill(record.pid, 'SIGKILL'); } catch { /* already gone */ }
  if (!(await waitForExit(record.pid, 10_000))) {
    throw new TsrunError(`container ${record.id}: init ${record.pid} did not exit within 10 s of SIGKILL`);
  }
}

/**
 * SIGKILLs the tsrun process that is still creating the container and waits for its end. Through a
 * pidfd opened before the start time is checked again: the signal cannot reach a reuse of its pid.
 */
async function killCreator(record: ContainerRecord): Promise<void> {
  const creator = record.creator;
  if (!creator) return;
  if (!(await signalUntilExit(creator, [{ signal: 9, waitMs: 10_000 }]))) {
    throw new TsrunError(`container ${record.id}: the tsrun creating it (pid ${creator.pid}) did not exit within 10 s of SIGKILL`);
  }
}

/**
 * A state dir without state.json: left by a create killed between its mkdir and its first record,
 * or being removed by a concurrent delete. It holds at most an image's bundle files; its reference
 * in the image store goes with it.
 */
async function removeUnrecorded(store: StateStore, id: string, warn: (m: string) => void): Promise<void> {
  // Its network record, if one is left, names a pinned namespace (a mount the removal would trip on)
  // and what the plugins added: DEL, then the pin, whatever DEL says.
  if (existsSync(join(store.dir(id), 'network.json'))) {
    try {
      await (await import('../network/phase.js')).detachNetwork(store.dir(id), { trace: noTrace, force: true, bestEffort: true });
    } catch (err) {
      warn(`container ${id}: ${(err as Error).message}`);
    }
  }
  // Without a record its cgroup is known only where the default cgroupsPath puts it (<v2>/tsrun/<id>):
  // removed there, its processes killed first. A cgroupsPath of the config's own cannot be found.
  const host = (() => { try { return detectCgroupHost(); } catch { return undefined; } })();
  try {
    const { dir, ownedRoot } = host ? resolveCgroupPath(host.mountPoint, undefined, id) : { dir: '', ownedRoot: '' };
    if (host && existsSync(dir)) {
      const cgroup = loadCgroup(dir, ownedRoot);
      if (cgroup.populated()) await cgroup.kill();
      await cgroup.destroy();
    }
  } catch (err) {
    warn(`container ${id}: its cgroup: ${(err as Error).message}`);
  }
  try {
    releaseImageBundle(store.dir(id), { keepUpper: false });
    await removeShiftedOverlay(store.dir(id));
  } finally {
    store.remove(id);
  }
}

export async function deleteContainer(root: string, id: string, force = false, warnTo: (m: string) => void = () => {}, noteTo: (m: string) => void = warnTo): Promise<void> {
  const store = new StateStore(root);
  const warn = quietWarn(warnTo);
  const note = quietWarn(noteTo);
  // runc and crun accept `delete --force` of a container they do not know (podman relies on it),
  // including one that a concurrent delete removed while we waited for its lock.
  const gone = (): boolean => force && !store.exists(id);
  if (gone()) {
    await removeUnrecorded(store, id, warn);
    return;
  }
  try {
    await withContainer(root, id, force ? 'delete --force' : 'delete', async ({ record, status }) => {
      if (status === 'creating') {
        await killCreator(record);
        if (gone()) return removeUnrecorded(store, id, warn);
        record = store.read(id); // what it had made by the time it died
        status = containerStatus(record, store.dir(id));
      }
      // A created container is killed first also without --force (runc's delete does so), and so is
      // an abandoned create's init (if it got that far), alive though the container is stopped.
      if (status !== 'stopped' || record.creator) await killEverything(record);
      await removeContainer(store, record, warn, note, { force });
    }, force ? { unrecorded: () => removeUnrecorded(store, id, warn) } : {});
  } catch (err) {
    if (!gone()) throw err;
  }
}
