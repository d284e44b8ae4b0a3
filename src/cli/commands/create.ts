// tsrun create [--bundle DIR | --image IMG [--keep-upper]] [--pid-file F] [--console-socket SOCK] ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { needsImport, needsPull } from '../../image/index.js';
import { defaultStoreDir } from '../../state/user-dirs.js';
import { debugImageMatch } from '../image-debug.js';
import { traceReporter } from '../reporters/trace.js';
import { UsageError } from '../parse-args.js';
import { cliWarner } from '../log.js';
import { PRESERVE_FDS_OPTION, preserveFdsArg } from '../preserve-fds.js';
import { asksForNetwork, networkRequest } from '../network-args.js';

interface CreateArgs {
  id: string; bundle: string; image?: string; store?: string; keepUpper: boolean;
  pidFile?: string; consoleSocket?: string; noPivot: boolean; noNewKeyring: boolean; trace: boolean; preserveFds: number; init: boolean;
  network?: string; publish?: string[];
}

const command: CommandModule<CreateArgs> = {
  command: 'create',
  describe: 'create a container: namespaces, rootfs and limits ready, its process waiting for `start`',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: {
    bundle: { type: 'string', path: true, short: 'b', default: '.', describe: 'bundle directory (config.json + rootfs)' },
    image: { type: 'string', short: 'i', describe: 'create from an image instead: an imported or pulled image\'s name, a registry reference (pulled if the store lacks it), an OCI layout LAYOUT[:TAG], a docker or OCI archive (its Cmd runs)' },
    store: { type: 'string', path: true, describe: 'image and layer store (default /var/lib/tsrun)' },
    'keep-upper': { type: 'boolean', default: false, describe: 'with --image: keep the container\'s upper layer (what it changed) in the store after delete, at <store>/uppers/<id>-<time>/upper' },
    'pid-file': { type: 'string', path: true, describe: 'write the container init\'s host pid to this file' },
    'console-socket': { type: 'string', path: true, describe: 'unix socket that receives the pty master when process.terminal is true' },
    'no-pivot': { type: 'boolean', default: false, describe: 'move the rootfs onto / and chroot instead of pivot_root (for roots pivot_root refuses)' },
    'no-new-keyring': { type: 'boolean', default: false, describe: 'keep the caller\'s session keyring instead of a new one for the container' },
    trace: { type: 'boolean', default: false, describe: 'print every set-up step with its result, duration and reason' },
    ...PRESERVE_FDS_OPTION,
    network: { type: 'string', describe: 'none (a new namespace, only lo), host (the host\'s), bridge[:NAME] (a new namespace on a CNI network; default network tsrun; root), slirp4netns[:allow_host_loopback=true] (a new namespace with a user-mode network; a user\'s default for -p), ns:PATH (join that namespace). Default: as the config says' },
    publish: { type: 'string', short: 'p', multiple: true, describe: 'publish a port with --network bridge: [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp] (CNI portmap); repeatable' },
    init: { type: 'boolean', default: false, describe: 'run tsrun-init as PID 1 in front of the program (mounted read-only at /dev/init): forwards signals, reaps zombies, exits with the program\'s status' },
  },
  // An image on disk not imported yet, or a registry reference not pulled yet, needs the import or
  // pull code, which the startup snapshot leaves out. So does the systemd cgroup driver (a D-Bus client).
  needsFullBundle: (args) => args.systemdCgroup || asksForNetwork(args.network, args.publish) || needsImport(args.image, args.store ?? defaultStoreDir()) || needsPull(args.image, args.store ?? defaultStoreDir()),
  async handler(args) {
    if (args.keepUpper && !args.image) throw new UsageError('--keep-upper needs --image (a bundle\'s rootfs is a directory of its own, with no upper layer)', 'create');
    if (args.debug && args.image) debugImageMatch(args.image, args.store ?? defaultStoreDir());
    // A registry reference the store lacks is pulled here, with progress on stderr (runContainer would pull it silently).
    if (needsPull(args.image, args.store ?? defaultStoreDir())) await (await import('../pull.js')).pullForRun(args.image!, args.store ?? defaultStoreDir(), args.debug);
    const network = await networkRequest(args.network, args.publish);
    const { createContainer } = await import('../../container/create.js');
    const created = await createContainer({
      ...(network ? { network } : {}),
      id: args.id, root: args.root, noPivot: args.noPivot, noNewKeyring: args.noNewKeyring, preserveFds: preserveFdsArg(args.preserveFds, 'create'),
      ...(args.systemdCgroup ? { systemdCgroup: true } : {}),
      ...(args.image ? { image: { ref: args.image, keepUpper: args.keepUpper, ...(args.store ? { store: args.store } : {}) } } : { bundle: args.bundle }),
      ...(args.pidFile ? { pidFile: args.pidFile } : {}),
      ...(args.consoleSocket ? { consoleSocket: args.consoleSocket } : {}),
      ...(args.trace ? { trace: traceReporter(args.logFormat) } : {}),
      ...(args.init ? { adjustSpec: (await import('../../api/init.js')).withDefaultInit } : {}),
      warn: cliWarner(args),
    });
    created.process.release();
    return 0;
  },
};

export default command;
