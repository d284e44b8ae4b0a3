// tsrun inspect [--format text|json] ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';

const command: CommandModule<{ id: string; format?: string }> = {
  command: 'inspect',
  describe: 'show a running container\'s namespaces (vs the host\'s), cgroup usage and limits, mounts, id maps and capabilities',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: { format: { type: 'string', short: 'f', choices: ['text', 'json'], describe: 'output format (default: follows --log-format)' } },
  async handler(args) {
    const { inspectContainer, formatInspection } = await import('../../container/inspect.js');
    const info = inspectContainer(args.root, args.id);
    writeSync(1, (args.format ?? args.logFormat) === 'json' ? JSON.stringify(info, null, 2) + '\n' : formatInspection(info));
    return 0;
  },
};

export default command;
