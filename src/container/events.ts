// `tsrun events [--stats] [--interval]`: JSON lines about a running container — resource stats (with
// `missing`: the stats its cgroup cannot have, and why), and an "oom" event whenever memory.events'
// oom_kill count grows. Ends when the container stops.
import { writeSync } from 'node:fs';
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
  const emit = (type: string, data: unknown, extra: Record<string, unknown> = {}): void => out(JSON.stringify({ type, id: opts.id, data, ...extra }));
  // Which stats this cgroup cannot have, and why: next to data (runc's consumers read only type, id, data).
  const missing = missingStatsOf(cgroup.dir);
  const withMissing = Object.keys(missing).length ? { missing } : {};
  if (opts.statsOnce) {
    emit('stats', cgroup.stats(), withMissing);
    return;
  }
  let ooms = cgroup.stats().memory?.events?.oom_kill ?? 0;
  while (containerStatus(record, store.dir(opts.id)) !== 'stopped') {
    const stats = cgroup.stats();
    const now = stats.memory?.events?.oom_kill ?? 0;
    if (now > ooms) emit('oom', { oom_kill: now });
    ooms = now;
    emit('stats', stats, withMissing);
    await new Promise((r) => setTimeout(r, opts.intervalMs));
  }
}
