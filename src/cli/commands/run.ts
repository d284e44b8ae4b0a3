// tsrun run [--bundle DIR | --image IMG [--keep-upper]] [--trace] [--dry-run] [ID | BUNDLE]
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { needsImport, needsPull } from '../../image/index.js';
import { defaultStoreDir } from '../../state/user-dirs.js';
import { debugImageMatch } from '../image-debug.js';
import { resolveBundleAndId } from '../bundle-arg.js';
import { traceReporter } from '../reporters/trace.js';
import { UsageError } from '../parse-args.js';
import { cliWarner } from '../log.js';
import { PRESERVE_FDS_OPTION, preserveFdsArg } from '../preserve-fds.js';
import { RUN_EXIT_STATUS_HELP, runFailureStatus } from '../exit-status.js';
import { asksForNetwork, networkRequest } from '../network-args.js';

interface RunArgs {
  target?: string;
  command: string[];
  bundle?: string;
  image?: string;
  store?: string;
  keepUpper: boolean;
  tty: boolean;
  detach: boolean;
  noPivot: boolean;
  noNewKeyring: boolean;
  pidFile?: string;
  consoleSocket?: string;
  trace: boolean;
  dryRun: boolean;
  preserveFds: number;
  keep: boolean;
  noSubreaper: boolean;
  network?: string;
  publish?: string[];
  init: boolean;
}

const command: CommandModule<RunArgs> = {
  command: 'run',
  describe: 'create and run a container in the foreground; exits with its exit status (125-127: see below)',
  epilog: RUN_EXIT_STATUS_HELP,
  failureStatus: runFailureStatus,
  positionals: [
    { name: 'target', describe: 'container id, or the bundle directory when neither --bundle nor --image is given' },
    { name: 'command', describe: 'with --image, after `--`: the command instead of the image\'s Cmd', variadic: true },
  ],
  options: {
    bundle: { type: 'string', path: true, short: 'b', describe: 'bundle directory (config.json + rootfs)' },
    image: { type: 'string', short: 'i', describe: 'run an image: an imported or pulled image\'s name (myapp:1.0 also finds docker.io/library/myapp:1.0), a registry reference (pulled if the store lacks it), an OCI layout LAYOUT[:TAG], a docker or OCI archive' },
    store: { type: 'string', path: true, describe: 'image and layer store (default /var/lib/tsrun)' },
    'keep-upper': { type: 'boolean', default: false, describe: 'with --image: keep the container\'s upper layer (what it changed) in the store after delete, at <store>/uppers/<id>-<time>/upper' },
    tty: { type: 'boolean', short: 't', default: false, describe: 'with --image: give the container a terminal' },
    detach: { type: 'boolean', short: 'd', default: false, describe: 'return once the container has started (runc run -d)' },
    'pid-file': { type: 'string', path: true, describe: 'write the container init\'s host pid to this file' },
    'no-pivot': { type: 'boolean', default: false, describe: 'move the rootfs onto / and chroot instead of pivot_root' },
    'no-new-keyring': { type: 'boolean', default: false, describe: 'keep the caller\'s session keyring' },
    'console-socket': { type: 'string', path: true, describe: 'unix socket that receives the pty master when process.terminal is true' },
    trace: { type: 'boolean', default: false, describe: 'print every set-up step with its result, duration and reason' },
    network: { type: 'string', describe: 'none (a new namespace, only lo), host (the host\'s), bridge[:NAME] (a new namespace on a CNI network; default network tsrun; root), slirp4netns[:allow_host_loopback=true] (a new namespace with a user-mode network; a user\'s default for -p), ns:PATH (join that namespace). Default: as the config says' },
    publish: { type: 'string', short: 'p', multiple: true, describe: 'publish a port with --network bridge: [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp] (CNI portmap); repeatable' },
    init: { type: 'boolean', default: false, describe: 'run tsrun-init as PID 1 in front of the program (mounted read-only at /dev/init): forwards signals, reaps zombies, exits with the program\'s status' },
    'dry-run': { type: 'boolean', default: false, describe: 'print the step plan and exit without running anything' },
    ...PRESERVE_FDS_OPTION,
    keep: { type: 'boolean', default: false, describe: 'do not delete the container after it exits (`tsrun delete` does); a detached one stays anyway' },
    // runc makes itself a subreaper unless told not to; tsrun never is one (the container's processes
    // are reaped by its init, or by the host's), so the option only restates what tsrun does.
    'no-subreaper': { type: 'boolean', default: false, describe: 'as runc: no subreaper (tsrun never is one; accepted for compatibility)' },
  },
  // An image on disk not imported yet, or a registry reference not pulled yet, needs the import or
  // pull code, which the startup snapshot leaves out. So does the systemd cgroup driver (a D-Bus client),
  // and --dry-run's printing of the plan (explain-output.ts).
  needsFullBundle: (args) => args.dryRun || args.systemdCgroup || asksForNetwork(args.network, args.publish, args.dryRun) || needsImport(args.image, args.store ?? defaultStoreDir()) || needsPull(args.image, args.store ?? defaultStoreDir()),
  async handler(args) {
    // Without --image, `--` only ends the options (runc's `run -- ID`): its one word is the id.
    let target = args.target;
    if (!args.image && args.command.length > 0) {
      if (target !== undefined || args.command.length > 1) throw new UsageError('a command after `--` needs --image (a bundle has its own process.args)', 'run');
      target = args.command[0];
    }
    if (args.keepUpper && !args.image) throw new UsageError('--keep-upper needs --image (a bundle\'s rootfs is a directory of its own, with no upper layer)', 'run');
    const { bundle, id } = args.image ? { bundle: '.', ...(target ? { id: target } : {}) } : resolveBundleAndId(args.bundle, target);
    if (args.dryRun) {
      const { explainBundle } = await import('../explain-output.js');
      const req = await networkRequest(args.network, args.publish);
      const network = req ? (await import('../../network/explain.js')).explainNetwork(req) : undefined;
      return explainBundle(bundle, args.logFormat, { root: args.root, ...(id ? { id } : {}) }, network ? { network } : {});
    }
    if (args.debug && args.image) debugImageMatch(args.image, args.store ?? defaultStoreDir());
    // A registry reference the store lacks is pulled here, with progress on stderr (runContainer would pull it silently).
    if (needsPull(args.image, args.store ?? defaultStoreDir())) await (await import('../pull.js')).pullForRun(args.image!, args.store ?? defaultStoreDir(), args.debug);
    const network = await networkRequest(args.network, args.publish);
    const { runContainer } = await import('../../container/run.js');
    const result = await runContainer({
      ...(network ? { network } : {}),
      root: args.root, detach: args.detach, noPivot: args.noPivot, noNewKeyring: args.noNewKeyring, preserveFds: preserveFdsArg(args.preserveFds, 'run'), keep: args.keep,
      ...(args.systemdCgroup ? { systemdCgroup: true } : {}),
      ...(args.image
        ? { image: { ref: args.image, tty: args.tty, keepUpper: args.keepUpper, ...(args.command.length ? { args: args.command } : {}), ...(args.store ? { store: args.store } : {}) } }
        : { bundle }),
      ...(id ? { id } : {}),
      ...(args.pidFile ? { pidFile: args.pidFile } : {}),
      ...(args.consoleSocket ? { consoleSocket: args.consoleSocket } : {}),
      ...(args.trace ? { trace: traceReporter(args.logFormat) } : {}),
      ...(args.init ? { adjustSpec: (await import('../../api/init.js')).withDefaultInit } : {}),
      warn: cliWarner(args),
      note: (m) => void writeSync(2, `tsrun: ${m}\n`),
    });
    if (result.oomKilled) {
      // memory.events counts any process of the container; only a SIGKILLed init means the container died of it.
      const who = result.signal === 'SIGKILL' ? `container ${result.id} was killed` : `a process of container ${result.id} was killed`;
      writeSync(2, `tsrun: ${who} by the OOM killer (memory.events oom_kill > 0: linux.resources.memory.limit reached)\n`);
    }
    return result.exitCode;
  },
};

export default command;
