// tsrun list [--format table|json]
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';

const command: CommandModule<{ format: string; quiet: boolean }> = {
  command: 'list',
  describe: 'list containers',
  options: {
    format: { type: 'string', short: 'f', default: 'table', choices: ['table', 'json'], describe: 'output format' },
    quiet: { type: 'boolean', short: 'q', default: false, describe: 'print only the ids' },
  },
  async handler(args) {
    const { listContainers } = await import('../../container/state.js');
    const all = listContainers(args.root);
    if (args.format === 'json') {
      writeSync(1, JSON.stringify(all) + '\n');
    } else if (args.quiet) {
      writeSync(1, all.map((c) => c.id + '\n').join(''));
    } else {
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((c) => [c.id, String(c.pid), c.status, c.bundle, c.created, c.owner])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      writeSync(1, rows.map((r) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd() + '\n').join(''));
    }
    return 0;
  },
};

export default command;
