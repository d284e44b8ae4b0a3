// tsrun pause ID
import type { CommandModule } from '../command.js';

const command: CommandModule<{ id: string }> = {
  command: 'pause',
  describe: 'freeze every process of a container (cgroup.freeze)',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  async handler(args) {
    const { pauseContainer } = await import('../../container/pause.js');
    await pauseContainer(args.root, args.id);
    return 0;
  },
};

export default command;
