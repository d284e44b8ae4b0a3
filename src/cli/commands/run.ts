// tsrun run [--bundle DIR] [--trace] [--dry-run] [ID | BUNDLE]
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { resolveBundleAndId } from '../bundle-arg.js';
import { traceReporter } from '../reporters/trace.js';

interface RunArgs {
  target?: string;
  bundle?: string;
  trace: boolean;
  dryRun: boolean;
}

const command: CommandModule<RunArgs> = {
  command: 'run',
  describe: 'create and run a container in the foreground; exits with its exit code',
  positionals: [{ name: 'target', describe: 'container id, or the bundle directory when --bundle is not given' }],
  options: {
    bundle: { type: 'string', short: 'b', describe: 'bundle directory (config.json + rootfs)' },
    trace: { type: 'boolean', default: false, describe: 'print every set-up step with its result, duration and reason' },
    'dry-run': { type: 'boolean', default: false, describe: 'print the step plan and exit without running anything' },
  },
  async handler(args) {
    const { bundle, id } = resolveBundleAndId(args.bundle, args.target);
    if (args.dryRun) {
      const { explainBundle } = await import('../explain-output.js');
      return explainBundle(bundle, args.logFormat);
    }
    const { runContainer } = await import('../../container/run.js');
    const result = await runContainer({
      bundle,
      ...(id ? { id } : {}),
      ...(args.trace ? { trace: traceReporter(args.logFormat) } : {}),
      warn: (m) => void writeSync(2, `tsrun: warning: ${m}\n`),
    });
    return result.exitCode;
  },
};

export default command;
