// `tsrun pause` / `tsrun resume`: freeze and thaw every process of the container through the cgroup
// v2 freezer (cgroup.freeze), returning once cgroup.events confirms the new state.
import { TsrunError } from '../errors.js';
import { loadCgroup, type CgroupHandle } from '../cgroups/index.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import { containerStatus } from '../state/status.js';

export function containerCgroup(record: ContainerRecord): CgroupHandle {
  if (!record.cgroupDir) throw new TsrunError(`container ${record.id} has no cgroup (no cgroup v2 hierarchy was mounted when it was created)`);
  return loadCgroup(record.cgroupDir, record.cgroupOwnedRoot);
}

export async function pauseContainer(root: string, id: string): Promise<void> {
  const store = new StateStore(root);
  await store.withLock(id, async () => {
    const record = store.read(id);
    const status = containerStatus(record, store.dir(id));
    if (status !== 'running' && status !== 'created') throw new TsrunError(`cannot pause container ${id} in state ${status}`);
    await containerCgroup(record).freeze();
  });
}

export async function resumeContainer(root: string, id: string): Promise<void> {
  const store = new StateStore(root);
  await store.withLock(id, async () => {
    const record = store.read(id);
    const status = containerStatus(record, store.dir(id));
    if (status !== 'paused') throw new TsrunError(`cannot resume container ${id} in state ${status} (it is not paused)`);
    await containerCgroup(record).thaw();
  });
}
