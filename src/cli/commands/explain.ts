// tsrun explain [--short | --seccomp] [BUNDLE]: the plan `run` would execute, with the reason for every
// step; --short in one line per step (runs of alike steps as one); --seccomp the compiled filter.
import type { CommandModule } from '../command.js';

interface ExplainArgs { bundle?: string; short: boolean; seccomp: boolean; network?: string; publish?: string[] }

const command: CommandModule<ExplainArgs> = {
  command: 'explain',
  describe: 'print the step plan for a bundle (namespaces, id maps, each step and why) without running it',
  positionals: [{ name: 'bundle', describe: 'bundle directory (default: the current directory)', path: true }],
  options: {
    short: { type: 'boolean', default: false, describe: 'one line per step (alike steps of one config list as one line), without the reasons' },
    seccomp: { type: 'boolean', default: false, describe: 'print the seccomp filter the container gets, disassembled: one BPF instruction a line, with its meaning' },
    network: { type: 'string', describe: 'as run --network: the plan with that namespace, and the CNI plugins tsrun would run' },
    publish: { type: 'string', short: 'p', multiple: true, describe: 'as run -p' },
  },
  async handler(args) {
    const { explainBundle } = await import('../explain-output.js');
    const { networkRequest } = await import('../network-args.js');
    const req = await networkRequest(args.network, args.publish);
    const network = req ? (await import('../../network/explain.js')).explainNetwork(req) : undefined;
    return explainBundle(args.bundle ?? '.', args.logFormat, { root: args.root }, { short: args.short, seccomp: args.seccomp, ...(network ? { network } : {}) });
  },
};

export default command;
