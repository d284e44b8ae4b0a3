// What the library's containers need to know of the host's mount table, read once and again only
// when it changed: the cgroup v2 host (where the hierarchy is, what it offers) and the mount that
// holds a rootfs (the step planner's mountOf). A test process makes hundreds of containers, and
// reading /proc/self/mountinfo (two to three times per plan) and cgroup.controllers for each cost
// ~0.35 ms of every run(). The mount table's change is seen on a kept mountinfo fd (POLLPRI,
// native/warm.ts mountsChanged), as the warm init sees it: one fd, one reader, so that no caller
// consumes the change another one has not seen.
import { closeSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { detectCgroupHost, type CgroupHost } from '../cgroups/index.js';
import { mountsChanged } from '../native/warm.js';
import { mountHolding, realHost } from '../rootfs/host-view.js';
import type { HostView } from '../rootfs/plan.js';
import { PlanMemo } from '../plan/plan-memo.js';

interface MountFacts {
  mountinfo: string;
  /** Derived from `mountinfo` on first use (a host without cgroup v2 throws each time instead). */
  cgroupHost?: CgroupHost;
  watch: number;
}

let cached: MountFacts | undefined;

function mountFacts(): MountFacts {
  if (cached && !mountsChanged(cached.watch)) return cached;
  if (cached) closeSync(cached.watch);
  cached = undefined;
  // Read through the fd that is then watched: a change during the read shows at the next call.
  const watch = openSync('/proc/self/mountinfo', 'r');
  try {
    cached = { mountinfo: readFileSync(watch, 'utf8'), watch };
    return cached;
  } catch (err) {
    closeSync(watch);
    throw err;
  }
}

export function cgroupHostOfProcess(): CgroupHost {
  const facts = mountFacts();
  facts.cgroupHost ??= detectCgroupHost(facts.mountinfo);
  return facts.cgroupHost;
}

/** The planner's view of the host with the mount table above: files are still looked at as they are. */
export const hostViewOfProcess: HostView = {
  kind: realHost.kind,
  mountOf(path) {
    try {
      const { mountinfo } = mountFacts();
      // Parsing the whole table is ~45 us a run: the answer for each path is kept with the table it came from.
      if (mountsSeen.mountinfo !== mountinfo) mountsSeen = { mountinfo, holding: new Map() };
      const real = realpathSync(path);
      if (!mountsSeen.holding.has(real)) mountsSeen.holding.set(real, mountHolding(mountinfo, real));
      const held = mountsSeen.holding.get(real);
      return held ? { ...held } : undefined;
    } catch {
      return undefined;
    }
  },
};
let mountsSeen: { mountinfo: string; holding: Map<string, ReturnType<typeof mountHolding>> } = { mountinfo: '', holding: new Map() };

/** The plans of this process's containers, reused while their inputs are the same (plan/plan-memo.ts). */
export const planMemoOfProcess = new PlanMemo();
