// tsrun ps [--format table|json] ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';

const command: CommandModule<{ id: string; format: string }> = {
  command: 'ps',
  describe: 'list the processes of a container (host pids)',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: { format: { type: 'string', short: 'f', default: 'table', choices: ['table', 'json'], describe: 'output format' } },
  async handler(args) {
    const { containerProcesses } = await import('../../container/ps.js');
    const procs = await containerProcesses(args.root, args.id);
    writeSync(1, args.format === 'json'
      ? JSON.stringify(procs.map((p) => p.pid)) + '\n'
      : ['PID    CMD', ...procs.map((p) => `${String(p.pid).padEnd(6)} ${p.cmd}`)].join('\n') + '\n');
    return 0;
  },
};

export default command;
