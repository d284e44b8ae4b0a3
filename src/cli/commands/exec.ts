// tsrun exec [options] ID [--] COMMAND [ARGS…]   or   tsrun exec --process process.json ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { UsageError } from '../parse-args.js';
import { traceReporter } from '../reporters/trace.js';
import { EXEC_EXIT_STATUS_HELP, execFailureStatus } from '../exit-status.js';

interface ExecArgs {
  id: string; command: string[]; process?: string; tty: boolean; detach: boolean; pidFile?: string; consoleSocket?: string;
  env?: string[]; cwd?: string; user?: string; cap?: string[]; noNewPrivs: boolean; trace: boolean;
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
  },
  async handler(args) {
    const { execInContainer } = await import('../../container/exec.js');
    const result = await execInContainer({
      root: args.root, id: args.id, tty: args.tty, detach: args.detach,
      ...(args.command.length ? { args: args.command } : {}),
      ...(args.process ? { processFile: args.process } : {}),
      ...(args.pidFile ? { pidFile: args.pidFile } : {}),
      ...(args.consoleSocket ? { consoleSocket: args.consoleSocket } : {}),
      ...(args.env ? { env: args.env } : {}),
      ...(args.cwd ? { cwd: args.cwd } : {}),
      ...(args.user ? { user: parseUser(args.user) } : {}),
      ...(args.cap ? { caps: args.cap } : {}),
      ...(args.noNewPrivs ? { noNewPrivs: true } : {}),
      ...(args.trace ? { trace: traceReporter(args.logFormat) } : {}),
      warn: (m) => void writeSync(2, `tsrun: warning: ${m}\n`),
    });
    return result.exitCode;
  },
};

export default command;
