// tsrun create [--bundle DIR] [--pid-file F] [--console-socket SOCK] ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { traceReporter } from '../reporters/trace.js';

interface CreateArgs { id: string; bundle: string; pidFile?: string; consoleSocket?: string; noPivot: boolean; noNewKeyring: boolean; trace: boolean }

const command: CommandModule<CreateArgs> = {
  command: 'create',
  describe: 'create a container: namespaces, rootfs and limits ready, its process waiting for `start`',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: {
    bundle: { type: 'string', short: 'b', default: '.', describe: 'bundle directory (config.json + rootfs)' },
    'pid-file': { type: 'string', describe: 'write the container init\'s host pid to this file' },
    'console-socket': { type: 'string', describe: 'unix socket that receives the pty master when process.terminal is true' },
    'no-pivot': { type: 'boolean', default: false, describe: 'move the rootfs onto / and chroot instead of pivot_root (for roots pivot_root refuses)' },
    'no-new-keyring': { type: 'boolean', default: false, describe: 'keep the caller\'s session keyring instead of a new one for the container' },
    trace: { type: 'boolean', default: false, describe: 'print every set-up step with its result, duration and reason' },
  },
  async handler(args) {
    const { createContainer } = await import('../../container/create.js');
    const created = await createContainer({
      id: args.id, bundle: args.bundle, root: args.root, noPivot: args.noPivot, noNewKeyring: args.noNewKeyring,
      ...(args.pidFile ? { pidFile: args.pidFile } : {}),
      ...(args.consoleSocket ? { consoleSocket: args.consoleSocket } : {}),
      ...(args.trace ? { trace: traceReporter(args.logFormat) } : {}),
      warn: (m) => void writeSync(2, `tsrun: warning: ${m}\n`),
    });
    created.process.release();
    return 0;
  },
};

export default command;
