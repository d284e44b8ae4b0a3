// tsrun state ID: the runtime-spec state as JSON.
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';

const command: CommandModule<{ id: string }> = {
  command: 'state',
  describe: 'print the state of a container as JSON (status read from the kernel)',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  async handler(args) {
    const { containerState } = await import('../../container/state.js');
    writeSync(1, JSON.stringify(await containerState(args.root, args.id), null, 2) + '\n');
    return 0;
  },
};

export default command;
