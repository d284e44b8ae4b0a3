// Create, phase 2: what exists before the container's process — the state dir with the "creating"
// record (naming the cgroup before the cgroup exists), the exec fifo, the cgroup with every limit
// written. Each pushes its undo as it is made.
import type { CallerMounts } from '../../rootfs/caller-mounts.js';
import { beginCallerMounts } from '../../rootfs/caller-mounts-host.js';
import * as shim from '../../native/shim.js';
import type { CgroupDriver, CgroupHandle, CgroupPlan } from '../../cgroups/index.js';
import type { ContainerRecord } from '../../state/store.js';
import type { CreateContext } from './context.js';
import type { Prepared } from './prepare.js';
import { creatingRecord, makeStateDir } from './state-dir.js';

export interface Materialized {
  /** The record as last written; later phases replace it. */
  record: ContainerRecord;
  /** Without a mount namespace: the caller's mounts under the rootfs before the init made its own. */
  callerMounts?: CallerMounts;
  cgroup?: CgroupHandle;
}

function makeCgroup(ctx: CreateContext, driver: CgroupDriver, plan: CgroupPlan): CgroupHandle {
  const { trace } = ctx;
  const cgroup = driver.apply(plan, (w, ms, result) => trace.event({
    who: 'parent', group: 'cgroup', syscall: 'write', title: `write ${JSON.stringify(w.value)} to ${plan.dir}/${w.file}`,
    field: w.field, why: 'a limit is written before the process exists, so even its set-up is accounted', result, durationMs: ms,
  }), { deferDevices: true });
  // A process the failure left in it (one spawned before its handle came back) is killed first.
  ctx.undo.push(`the cgroup ${cgroup.dir}`, async () => {
    try { if (cgroup.populated()) await cgroup.kill(); } catch { /* destroy says what is wrong */ }
    await cgroup.destroy();
  });
  trace.event({
    who: 'parent', group: 'cgroup', syscall: 'cgroups', title: `cgroup ${cgroup.dir}${plan.deviceRules ? ` with a device program of ${plan.deviceRules.length} rules` : ''}`,
    why: 'made before the process exists, so that its limits count from the process\'s first step (the clone line below says how it gets in)', result: 'ok',
    ...(plan.deviceRules ? { field: 'linux.resources.devices' } : {}),
  });
  return cgroup;
}

export function materialize(ctx: CreateContext, p: Prepared): Materialized {
  const { opts, store } = ctx;
  // Recorded before the cgroup and the process exist: if tsrun is killed from here on, `delete
  // --force` finds them (and status says "creating" while this process lives).
  const record = creatingRecord(opts.id, p.bundle, p.cgroupPlan);
  if (p.fromImage) store.write(record);
  else makeStateDir(ctx, record, { fromImage: false });
  p.network?.beforeSpawn?.(); // slirp4netns's resolv.conf, which the init binds in
  const callerMounts = beginCallerMounts(p.plan, p.bundle.rootfs, ctx.warn);
  // In the state dir: it goes with it.
  if (!opts.startedByCaller) shim.mkfifo(store.fifoPath(opts.id), 0o600);
  const cgroup = p.cgroupPlan ? makeCgroup(ctx, p.driver, p.cgroupPlan) : undefined;
  return { record, ...(callerMounts ? { callerMounts } : {}), ...(cgroup ? { cgroup } : {}) };
}
