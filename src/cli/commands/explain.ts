// tsrun explain [BUNDLE]: the plan `run` would execute, with the reason for every step.
import type { CommandModule } from '../command.js';

interface ExplainArgs { bundle?: string }

const command: CommandModule<ExplainArgs> = {
  command: 'explain',
  describe: 'print the step plan for a bundle (namespaces, id maps, each step and why) without running it',
  positionals: [{ name: 'bundle', describe: 'bundle directory (default: the current directory)', path: true }],
  async handler(args) {
    const { explainBundle } = await import('../explain-output.js');
    return explainBundle(args.bundle ?? '.', args.logFormat, { root: args.root });
  },
};

export default command;
