// tsrun explain [--short | --seccomp] [BUNDLE]: the plan `run` would execute, with the reason for every
// step; --short in one line per step (runs of alike steps as one); --seccomp the compiled filter.
import type { CommandModule } from '../command.js';

interface ExplainArgs { bundle?: string; short: boolean; seccomp: boolean }

const command: CommandModule<ExplainArgs> = {
  command: 'explain',
  describe: 'print the step plan for a bundle (namespaces, id maps, each step and why) without running it',
  positionals: [{ name: 'bundle', describe: 'bundle directory (default: the current directory)', path: true }],
  options: {
    short: { type: 'boolean', default: false, describe: 'one line per step (alike steps of one config list as one line), without the reasons' },
    seccomp: { type: 'boolean', default: false, describe: 'print the seccomp filter the container gets, disassembled: one BPF instruction a line, with its meaning' },
  },
  async handler(args) {
    const { explainBundle } = await import('../explain-output.js');
    return explainBundle(args.bundle ?? '.', args.logFormat, { root: args.root }, { short: args.short, seccomp: args.seccomp });
  },
};

export default command;
