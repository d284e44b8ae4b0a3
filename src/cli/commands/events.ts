// tsrun events [--stats] [--interval DURATION] ID
import type { CommandModule } from '../command.js';
import { parseDurationMs } from '../duration.js';
import { UsageError } from '../parse-args.js';

const command: CommandModule<{ id: string; stats: boolean; interval: string }> = {
  command: 'events',
  describe: 'print JSON lines of resource stats (runc\'s keys in "data"; tsrun\'s reading of the cgroup v2 files in "cgroup2"; "missing": the stats its cgroup cannot have, and why) and oom events for a container',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: {
    stats: { type: 'boolean', default: false, describe: 'print the stats once and exit' },
    interval: { type: 'string', default: '5s', describe: 'time between stats, as runc: 1s, 500ms, 1m30s (a bare number: seconds)' },
  },
  async handler(args) {
    const ms = parseDurationMs(args.interval);
    if (ms === undefined || ms <= 0) throw new UsageError(`--interval needs a duration greater than 0 such as 1s or 500ms, got ${JSON.stringify(args.interval)}`, 'events');
    const { streamEvents } = await import('../../container/events.js');
    await streamEvents({ root: args.root, id: args.id, statsOnce: args.stats, intervalMs: ms });
    return 0;
  },
};

export default command;
