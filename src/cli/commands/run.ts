// tsrun run [--bundle DIR] [--trace] [--dry-run] [ID | BUNDLE]
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { resolveBundleAndId } from '../bundle-arg.js';
import { traceReporter } from '../reporters/trace.js';

interface RunArgs {
  target?: string;
  bundle?: string;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  trace: boolean;
  dryRun: boolean;
}

const command: CommandModule<RunArgs> = {
  command: 'run',
  describe: 'create and run a container in the foreground; exits with its exit code',
  positionals: [{ name: 'target', describe: 'container id, or the bundle directory when --bundle is not given' }],
  options: {
    bundle: { type: 'string', short: 'b', describe: 'bundle directory (config.json + rootfs)' },
    detach: { type: 'boolean', short: 'd', default: false, describe: 'return once the container has started (runc run -d)' },
    'pid-file': { type: 'string', describe: 'write the container init\'s host pid to this file' },
    'console-socket': { type: 'string', describe: 'unix socket that receives the pty master when process.terminal is true' },
    trace: { type: 'boolean', default: false, describe: 'print every set-up step with its result, duration and reason' },
    'dry-run': { type: 'boolean', default: false, describe: 'print the step plan and exit without running anything' },
  },
  async handler(args) {
    const { bundle, id } = resolveBundleAndId(args.bundle, args.target);
    if (args.dryRun) {
      const { explainBundle } = await import('../explain-output.js');
      return explainBundle(bundle, args.logFormat, { root: args.root, ...(id ? { id } : {}) });
    }
    const { runContainer } = await import('../../container/run.js');
    const result = await runContainer({
      bundle, root: args.root, detach: args.detach,
      ...(id ? { id } : {}),
      ...(args.pidFile ? { pidFile: args.pidFile } : {}),
      ...(args.consoleSocket ? { consoleSocket: args.consoleSocket } : {}),
      ...(args.trace ? { trace: traceReporter(args.logFormat) } : {}),
      warn: (m) => void writeSync(2, `tsrun: warning: ${m}\n`),
    });
    if (result.oomKilled) writeSync(2, `tsrun: container ${result.id} was killed by the OOM killer (memory.events oom_kill > 0: linux.resources.memory.limit reached)\n`);
    return result.exitCode;
  },
};

export default command;
