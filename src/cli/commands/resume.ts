// tsrun resume ID
import type { CommandModule } from '../command.js';

const command: CommandModule<{ id: string }> = {
  command: 'resume',
  describe: 'thaw a paused container',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  async handler(args) {
    const { resumeContainer } = await import('../../container/pause.js');
    await resumeContainer(args.root, args.id);
    return 0;
  },
};

export default command;
