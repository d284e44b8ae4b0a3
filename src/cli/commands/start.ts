// tsrun start ID
import type { CommandModule } from '../command.js';
import { cliWarner } from '../log.js';

const command: CommandModule<{ id: string }> = {
  command: 'start',
  describe: 'start the user process of a created container',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  async handler(args) {
    const { startContainer } = await import('../../container/start.js');
    await startContainer(args.root, args.id, cliWarner(args));
    return 0;
  },
};

export default command;
