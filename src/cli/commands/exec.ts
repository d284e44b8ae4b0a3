// tsrun exec [options] ID [--] COMMAND [ARGS…]   or   tsrun exec --process process.json ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { UsageError } from '../parse-args.js';
import { traceReporter } from '../reporters/trace.js';
import { EXEC_EXIT_STATUS_HELP, execFailureStatus } from '../exit-status.js';
import { PRESERVE_FDS_OPTION, preserveFdsArg } from '../preserve-fds.js';

interface ExecArgs {
  id: string; command: string[]; process?: string; tty: boolean; detach: boolean; pidFile?: string; consoleSocket?: string;
  env?: string[]; cwd?: string; user?: string; cap?: string[]; noNewPrivs: boolean; trace: boolean; preserveFds: number;
  additionalGids?: string[]; ignorePaused: boolean; cgroup?: string[]; processLabel?: string; apparmor?: string;
}

/** -g/--additional-gids: each a gid (runc's Int64SliceFlag also takes `1,2` in one word). */
function parseGids(words: string[]): number[] {
  return words.flatMap((w) => w.split(',')).map((g) => {
    if (!/^\d+$/.test(g) || Number(g) > 0xfffffffe) throw new UsageError(`--additional-gids takes gids as numbers, got ${JSON.stringify(g)}`, 'exec');
    return Number(g);
  });
}

/**
 * --cgroup [CONTROLLER[,CONTROLLER…]:]PATH (runc's): a sub-cgroup of the container's for the process.
 * cgroup v2 has one tree, so every controller named must name the same path.
 */
function parseSubCgroup(words: string[]): string | undefined {
  const paths = new Set<string>();
  for (const w of words) {
    const parts = w.split(':');
    if (parts.length > 2) throw new UsageError(`invalid --cgroup argument: ${w}`, 'exec');
    if (parts.length === 1 && words.length !== 1) throw new UsageError(`invalid --cgroup argument: ${w} (missing <controller>: prefix)`, 'exec');
    paths.add(parts[parts.length - 1]!);
  }
  if (paths.size > 1) throw new UsageError(`--cgroup names ${paths.size} different paths; on cgroup v2 every controller is in one tree, so they must be one`, 'exec');
  return [...paths][0];
}

/** tsrun applies no LSM confinement: asked for one, it refuses rather than run the process without it. */
function refuseLsm(args: ExecArgs): void {
  if (args.apparmor !== undefined && args.apparmor !== '' && args.apparmor !== 'unconfined') {
    throw new UsageError(`--apparmor ${args.apparmor}: tsrun does not apply AppArmor profiles, so the process would run without it (use "unconfined" or leave it out)`, 'exec');
  }
  if (args.processLabel) {
    throw new UsageError(`--process-label ${args.processLabel}: tsrun does not apply SELinux labels, so the process would run without it`, 'exec');
  }
}

/** UID[:GID]; without a GID the container's gid stays (as runc). */
function parseUser(spec: string): { uid: number; gid?: number } {
  const m = /^(\d+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new UsageError(`--user takes UID[:GID] as numbers, got ${JSON.stringify(spec)}`, 'exec');
  return m[2] === undefined ? { uid: Number(m[1]) } : { uid: Number(m[1]), gid: Number(m[2]) };
}

const command: CommandModule<ExecArgs> = {
  command: 'exec',
  describe: 'run a process in a running container (joins all its namespaces and its cgroup)',
  epilog: EXEC_EXIT_STATUS_HELP,
  failureStatus: execFailureStatus,
  positionals: [
    { name: 'id', describe: 'container id', required: true },
    { name: 'command', describe: 'program and arguments', variadic: true },
  ],
  optionsEndAfterPositionals: 1,
  options: {
    process: { type: 'string', path: true, short: 'p', describe: 'process.json with the runtime-spec process to run' },
    tty: { type: 'boolean', short: 't', default: false, describe: 'allocate a pty' },
    detach: { type: 'boolean', short: 'd', default: false, describe: 'return once the process has started' },
    'pid-file': { type: 'string', path: true, describe: 'write the process\'s host pid to this file' },
    'console-socket': { type: 'string', path: true, describe: 'unix socket that receives the pty master' },
    env: { type: 'string', short: 'e', multiple: true, describe: 'add KEY=VALUE to the environment' },
    cwd: { type: 'string', describe: 'working directory inside the container' },
    user: { type: 'string', short: 'u', describe: 'UID[:GID] to run as' },
    cap: { type: 'string', short: 'c', multiple: true, describe: 'add a capability (CAP_…)' },
    'no-new-privs': { type: 'boolean', default: false, describe: 'set no_new_privs' },
    trace: { type: 'boolean', default: false, describe: 'print every set-up step' },
    ...PRESERVE_FDS_OPTION,
    'additional-gids': { type: 'string', short: 'g', multiple: true, describe: 'add a supplementary gid (repeatable)' },
    'ignore-paused': { type: 'boolean', default: false, describe: 'allow exec in a paused container (the process starts frozen)' },
    cgroup: { type: 'string', multiple: true, describe: 'run the process in an existing sub-cgroup of the container\'s: [CONTROLLER:]PATH' },
    'process-label': { type: 'string', short: 'l', describe: 'SELinux label: refused (tsrun applies none); empty is accepted' },
    apparmor: { type: 'string', describe: 'AppArmor profile: refused (tsrun applies none); empty or "unconfined" is accepted' },
  },
  async handler(args) {
    refuseLsm(args);
    const subCgroup = args.cgroup ? parseSubCgroup(args.cgroup) : undefined;
    const { execInContainer } = await import('../../container/exec.js');
    const result = await execInContainer({
      root: args.root, id: args.id, tty: args.tty, detach: args.detach, preserveFds: preserveFdsArg(args.preserveFds, 'exec'),
      ...(args.command.length ? { args: args.command } : {}),
      ...(args.process ? { processFile: args.process } : {}),
      ...(args.pidFile ? { pidFile: args.pidFile } : {}),
      ...(args.consoleSocket ? { consoleSocket: args.consoleSocket } : {}),
      ...(args.env ? { env: args.env } : {}),
      ...(args.cwd ? { cwd: args.cwd } : {}),
      ...(args.user ? { user: parseUser(args.user) } : {}),
      ...(args.cap ? { caps: args.cap } : {}),
      ...(args.noNewPrivs ? { noNewPrivs: true } : {}),
      ...(args.additionalGids ? { additionalGids: parseGids(args.additionalGids) } : {}),
      ...(args.ignorePaused ? { ignorePaused: true } : {}),
      ...(subCgroup !== undefined ? { subCgroup } : {}),
      ...(args.trace ? { trace: traceReporter(args.logFormat) } : {}),
      warn: (m) => void writeSync(2, `tsrun: warning: ${m}\n`),
    });
    return result.exitCode;
  },
};

export default command;
