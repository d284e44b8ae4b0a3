// tsrun events [--stats] [--interval SECONDS] ID
import type { CommandModule } from '../command.js';

const command: CommandModule<{ id: string; stats: boolean; interval: number }> = {
  command: 'events',
  describe: 'print JSON lines of resource stats (with "missing": the stats its cgroup cannot have, and why) and oom events for a container',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: {
    stats: { type: 'boolean', default: false, describe: 'print the stats once and exit' },
    interval: { type: 'number', default: 5, describe: 'seconds between stats' },
  },
  async handler(args) {
    const { streamEvents } = await import('../../container/events.js');
    await streamEvents({ root: args.root, id: args.id, statsOnce: args.stats, intervalMs: args.interval * 1000 });
    return 0;
  },
};

export default command;
