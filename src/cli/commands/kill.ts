// tsrun kill [--all] ID [SIGNAL]
import type { CommandModule } from '../command.js';

const command: CommandModule<{ id: string; signal?: string; all: boolean }> = {
  command: 'kill',
  describe: 'send a signal (default SIGTERM) to the container\'s init, or with --all to all its processes',
  positionals: [
    { name: 'id', describe: 'container id', required: true },
    { name: 'signal', describe: 'KILL, SIGKILL or 9 (default TERM)' },
  ],
  options: { all: { type: 'boolean', short: 'a', default: false, describe: 'signal every process in the container\'s cgroup' } },
  async handler(args) {
    const { killContainer } = await import('../../container/kill.js');
    await killContainer(args.root, args.id, args.signal ?? 'SIGTERM', args.all);
    return 0;
  },
};

export default command;
