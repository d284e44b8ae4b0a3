// `tsrun events [--stats] [--interval]`: JSON lines about a running container — resource stats, and
// an "oom" event whenever memory.events' oom_kill count grows, as runc prints them: `data` has runc's
// keys (runc-stats.ts), for tools that parse runc's output. Next to it, tsrun's own reading of the v2
// files (`cgroup2`: memory.events, pressure-related counts runc leaves out) and `missing`: the stats
// its cgroup cannot have, and why. Ends when the container stops.
import { writeSync } from 'node:fs';
import { runcStats, stringifyWithU64 } from '../cgroups/runc-stats.js';
import { readCgroupFile } from '../cgroups/files.js';
import { hostHugePageSizes } from '../cgroups/stats.js';
import type { ContainerRecord, StateStore } from '../state/store.js';
import { withContainer } from '../state/with-container.js';
import { containerStatus } from '../state/status.js';
import { containerCgroup } from './pause.js';
import { missingStatsOf } from './stats-missing.js';

export interface EventsOptions {
  root: string;
  id: string;
  /** Print one stats event and exit. */
  statsOnce: boolean;
  intervalMs: number;
  out?: (line: string) => void;
}

export function streamEvents(opts: EventsOptions): Promise<void> {
  return withContainer(opts.root, opts.id, 'events', ({ store, record }) => stream(opts, store, record));
}

async function stream(opts: EventsOptions, store: StateStore, record: ContainerRecord): Promise<void> {
  const cgroup = containerCgroup(record);
  const out = opts.out ?? ((l: string) => void writeSync(1, l + '\n'));
  // Which stats this cgroup cannot have, and why: next to data (runc's consumers read only type, id, data).
  const missing = missingStatsOf(cgroup.dir);
  const withMissing = Object.keys(missing).length ? { missing } : {};
  const pageSizes = hostHugePageSizes();
  const emitStats = (cgroup2: ReturnType<typeof cgroup.stats>): void => out(stringifyWithU64({
    type: 'stats', id: opts.id, data: runcStats((f) => readCgroupFile(cgroup.dir, f), pageSizes), cgroup2, ...withMissing,
  }));
  if (opts.statsOnce) {
    emitStats(cgroup.stats());
    return;
  }
  let ooms = cgroup.stats().memory?.events?.oom_kill ?? 0;
  while (containerStatus(record, store.dir(opts.id)) !== 'stopped') {
    const stats = cgroup.stats();
    const now = stats.memory?.events?.oom_kill ?? 0;
    // runc's oom event carries no data.
    if (now > ooms) out(JSON.stringify({ type: 'oom', id: opts.id }));
    ooms = now;
    emitStats(stats);
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}
