// Create, phase 3: the container's init, born in its cgroup (process/spawn-in-cgroup.ts). tsrun's
// share of the set-up runs while the child runs its plan: the record names the init, the device
// program is loaded, and attached once the init waits, set up, before it can exec.
import type { TraceSink } from '../../process/trace.js';
import type { ContainerProcess, StartOptions } from '../../process/parent.js';
import { startInCgroup } from '../../process/spawn-in-cgroup.js';
import { spawnSettings } from '../../native/spawn-settings.js';
import { removeCallerMounts } from '../../rootfs/caller-mounts-host.js';
import type { CgroupHandle } from '../../cgroups/index.js';
import { hasCreateHooks } from '../../oci/hook-phases.js';
import type { CreateContext } from './context.js';
import type { Materialized } from './materialize.js';
import type { Prepared } from './prepare.js';
import { withInit } from './state-dir.js';
import type { WarmClaim } from './warm.js';
import { msSince } from '../../host/clock.js';

/**
 * Device rules take effect once the init has made its rootfs and waits to exec, as in runc (this also
 * detaches programs a reused cgroup still carried). `rules`: how many the program has, if there is one.
 */
function attachDevices(cgroup: CgroupHandle, rules: number | undefined, trace: TraceSink): void {
  const t0 = process.hrtime.bigint();
  cgroup.attachDevices();
  if (rules === undefined) return;
  trace.event({
    who: 'parent', group: 'cgroup', syscall: 'bpf', title: `attach the device program (${rules} rules) to ${cgroup.dir}`, field: 'linux.resources.devices',
    why: 'the set-up (mknod included) is done and the process has not exec\'d: from here on every device access is checked, as runc does', result: 'ok', durationMs: msSince(t0),
  });
}

/** The library's ways to start the process (create/warm.ts): a warm init, a refill of it, a clone on a worker thread. */
export interface LibrarySpawn extends WarmClaim {
  spawnOnWorker?: StartOptions['spawnOnWorker'];
}

export async function spawnInit(ctx: CreateContext, p: Prepared, m: Materialized, lib: LibrarySpawn = {}): Promise<ContainerProcess> {
  const warm = lib.claimed;
  const { opts, store, trace, undo } = ctx;
  // The init is recorded before it runs its plan when only its pid could find it later: without a
  // cgroup (cgroup.kill finds it otherwise), before it mounts in the caller's table, and for hooks
  // (which may ask `tsrun state`). Otherwise the next write has it: one state.json write less.
  const recordInitNow = !m.cgroup || m.callerMounts !== undefined || hasCreateHooks(p.spec);
  const proc = await startInCgroup(warm?.plan ?? p.plan, {
    trace, traceSteps: opts.trace !== undefined, warn: ctx.warn,
    ...(m.cgroup ? { cgroup: m.cgroup } : {}), clone3: !spawnSettings().noClone3,
    ...(warm?.init && warm.send ? { warm: { init: warm.init, send: warm.send } } : {}),
    ...(lib.spawnOnWorker ? { spawnOnWorker: lib.spawnOnWorker } : {}),
    ...(opts.quickReportMs ? { quickReportMs: opts.quickReportMs } : {}),
    // A foreground run sets up while tsrun loads the device program (and writes its state, if it
    // must now): two cores at work. Not when it mounts in the caller's table: those mounts must be
    // tracked from a known point.
    early: (opts.foreground ?? false) && m.callerMounts === undefined,
    beforeGo: (pid) => {
      // From the go-ahead on, the plan may mount in the caller's table: undone from the latest
      // record of what it mounted (finish adds it).
      if (m.callerMounts) undo.push(`the mounts under ${m.callerMounts.rootfs} in the caller's mount table`, () => removeCallerMounts(m.callerMounts!, ctx.warn));
      m.record = { ...withInit(m.record, pid), ...(m.callerMounts ? { callerMounts: m.callerMounts } : {}) };
      if (recordInitNow) store.write(m.record);
      m.cgroup?.loadDevices();
      // A user-mode network's helper joins the container's namespaces by fd: a user may take them
      // only now, while the init is still dumpable (network/connect.ts, namespaceFds).
      const held = p.network?.userMode?.namespaces;
      if (held) { undo.push('the container\'s namespaces held for slirp4netns', () => held.release()); held.take(pid); }
    },
    atWaiting: () => { if (m.cgroup) attachDevices(m.cgroup, p.cgroupPlan?.deviceRules?.length, trace); },
  });
  undo.push(`the container process ${proc.pid}`, () => proc.destroy());
  return proc;
}
