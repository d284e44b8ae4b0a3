// The container's state directory during a create: made with its first record in it, before anything
// else of the container exists, and rewritten as things are made, so that whenever this tsrun is
// killed, `delete` finds all that it made (ContainerRecord.creator).
import type { Bundle } from '../../oci/bundle.js';
import type { CgroupPlan } from '../../cgroups/index.js';
import { readProcStat, thisProcess } from '../../state/status.js';
import type { ContainerRecord } from '../../state/store.js';
import { utcTimestamp } from '../../state/timestamp.js';
import { OCI_VERSION } from '../../version.js';
import { releaseImageBundle } from '../image-release.js';
import type { CreateContext } from './context.js';

/** The record of a container being created; `bundle` is undefined for an image's, not made yet. */
export function creatingRecord(id: string, bundle: Bundle | undefined, cgroupPlan?: CgroupPlan): ContainerRecord {
  const spec = bundle?.spec ?? { ociVersion: OCI_VERSION };
  return {
    ociVersion: OCI_VERSION, id, pid: 0, pidStartTime: '', bundle: bundle?.dir ?? '', rootfs: bundle?.rootfs ?? '', created: utcTimestamp(),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
    ...(cgroupPlan ? { cgroupDir: cgroupPlan.dir, cgroupOwnedRoot: cgroupPlan.ownedRoot } : {}),
    ...(cgroupPlan?.systemd ? { cgroupSystemdUnit: cgroupPlan.systemd.unit } : {}),
    started: false, config: spec, creator: thisProcess(),
  };
}

/** The record once the init exists: its pid and start time (a reused pid is then told apart). */
export function withInit(record: ContainerRecord, pid: number): ContainerRecord {
  return { ...record, pid, pidStartTime: readProcStat(pid)?.startTime ?? '' };
}

/**
 * Makes the state dir with `first` in it; fails if the id is taken (and then undoes nothing: only a
 * directory this create made may be removed, never a same-named container's). Its undo also gives
 * back what an image's bundle took from the image store.
 */
export function makeStateDir(ctx: CreateContext, first: ContainerRecord, { fromImage }: { fromImage: boolean }): void {
  const { store } = ctx;
  const id = first.id;
  store.createDir(id, first);
  ctx.undo.push(`the state directory ${store.dir(id)}`, () => {
    try {
      if (fromImage) releaseImageBundle(store.dir(id), { keepUpper: false });
    } finally {
      store.remove(id);
    }
  });
}
