// The cgroup v2 host (where the hierarchy is, what it offers) for the library's containers, read once
// and again only when the mount table changed: a test process makes hundreds of containers, and
// reading /proc/self/mountinfo and cgroup.controllers for each cost ~0.15 ms of every run(). The
// mount table's change is seen on a kept mountinfo fd (POLLPRI, native/warm.ts mountsChanged), as
// the warm init sees it.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { detectCgroupHost, type CgroupHost } from '../cgroups/index.js';
import { mountsChanged } from '../native/warm.js';

let cached: { host: CgroupHost; watch: number } | undefined;

export function cgroupHostOfProcess(): CgroupHost {
  if (cached && !mountsChanged(cached.watch)) return cached.host;
  if (cached) closeSync(cached.watch);
  cached = undefined;
  // Read through the fd that is then watched: a change during the read shows at the next call.
  const watch = openSync('/proc/self/mountinfo', 'r');
  try {
    const host = detectCgroupHost(readFileSync(watch, 'utf8'));
    cached = { host, watch };
    return host;
  } catch (err) {
    closeSync(watch);
    throw err;
  }
}
