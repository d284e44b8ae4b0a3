// `tsrun pause` / `tsrun resume`: freeze and thaw every process of the container through the cgroup
// v2 freezer (cgroup.freeze), returning once cgroup.events confirms the new state.
import { TsrunError } from '../errors.js';
import { loadCgroup, type CgroupHandle } from '../cgroups/index.js';
import type { ContainerRecord } from '../state/store.js';
import { withContainer } from '../state/with-container.js';

export function containerCgroup(record: ContainerRecord): CgroupHandle {
  if (!record.cgroupDir) throw new TsrunError(`container ${record.id} has no cgroup of its own: no cgroup v2 hierarchy was mounted when it was created, or a user made it without a delegated cgroup subtree (see tsrun check, cgroups/delegation)`);
  return loadCgroup(record.cgroupDir, record.cgroupOwnedRoot);
}

/** runc's pause: a running or created container (a created one resumes to created). */
export async function pauseContainer(root: string, id: string): Promise<void> {
  await withContainer(root, id, 'pause', ({ record }) => containerCgroup(record).freeze());
}

export async function resumeContainer(root: string, id: string): Promise<void> {
  await withContainer(root, id, 'resume', ({ record }) => containerCgroup(record).thaw());
}
