// tsrun start ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';

const warn = (m: string): void => void writeSync(2, `tsrun: warning: ${m}\n`);

const command: CommandModule<{ id: string }> = {
  command: 'start',
  describe: 'start the user process of a created container',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  async handler(args) {
    const { startContainer } = await import('../../container/start.js');
    await startContainer(args.root, args.id, warn);
    return 0;
  },
};

export default command;
