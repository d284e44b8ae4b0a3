// `tsrun exec`: run another process in a running container. tsrun-init (never a fork of Node: see
// tsrun_spawn in native-bindings/shim.c) joins every namespace of the container's init and clones
// the new process into the container's cgroup; the process settings are then applied as in `run`.
// A container without a mount namespace of its own has a chroot for a root, which no namespace
// carries: the exec'd process enters the init's root itself, as the init did.
import { closeSync, constants, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import type { Process, Spec } from '../oci/types.js';
import { validateSpec } from '../oci/validate.js';
import { isCapabilityName } from '../abi/capabilities.js';
import { execPlan } from '../plan/exec.js';
import { joinsCgroupNamespace, sharesCallerMountNamespace } from '../namespaces/join.js';
import { handOverConsole, type ContainerProcess } from '../process/parent.js';
import { startInCgroup } from '../process/spawn-in-cgroup.js';
import { forwardSignals } from '../process/signals.js';
import { waitForeground } from '../process/foreground.js';
import { callerTerminalSize } from '../process/terminal.js';
import { noTrace, type TraceSink } from '../process/trace.js';
import { loadCgroup } from '../cgroups/index.js';
import type { ContainerRecord } from '../state/store.js';
import { checkLifecycle } from '../state/lifecycle.js';
import { withContainer } from '../state/with-container.js';
import { spawnSettings } from '../native/spawn-settings.js';
import { containerStatus } from '../state/status.js';
import { writePidFile } from '../state/pid-file.js';
import { quietWarn } from './diagnostics.js';
import { UndoStack } from './undo-stack.js';
import { withStdio, type StdioFds } from '../process/stdio.js';

export interface ExecOptions {
  root: string;
  id: string;
  /** A process.json (runtime-spec `process` object); otherwise the container's process with the overrides below. */
  processFile?: string;
  args?: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid?: number };
  caps?: string[];
  noNewPrivs?: boolean;
  tty?: boolean;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  /** fds 3..3+N-1 of tsrun's caller go to the process (--preserve-fds). */
  preserveFds?: number;
  /** Supplementary gids added to the process's (runc's --additional-gids). */
  additionalGids?: number[];
  /** Exec into a paused container too (runc's --ignore-paused): the process joins it frozen. */
  ignorePaused?: boolean;
  /** A sub-cgroup of the container's for the process, relative to its cgroup (runc's --cgroup). */
  subCgroup?: string;
  trace?: TraceSink;
  /** Warnings for the user (not errors): a clean-up that failed, clone3 refused. */
  warn?: (message: string) => void;
  /** fds of tsrun's that become the process's stdin/stdout/stderr (the library's pipes); default: tsrun's own. */
  stdio?: StdioFds;
}

/**
 * An fd of the init's root directory (/proc/PID/root), for a container without a mount namespace.
 * Opened from the host, before any namespace is joined, and checked *after* opening: if the pid still
 * names the init (same start time) now, the fd is the init's root and not that of a process that
 * reused the pid. No path string of the rootfs is resolved again, so a symlink or directory swapped
 * into the bundle's path since create cannot redirect the exec. libuv opens it O_CLOEXEC.
 */
function openInitRoot(record: ContainerRecord, stateDir: string, id: string, op: ExecOperation): number {
  let fd = -1;
  let why = '';
  try {
    fd = openSync(`/proc/${record.pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  try {
    checkLifecycle(op, containerStatus(record, stateDir), id);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    throw err;
  }
  if (fd < 0) throw new TsrunError(`cannot exec in container ${id}: cannot open the root of its init (/proc/${record.pid}/root): ${why}`);
  return fd;
}

/** KEY=VALUE lists: a later KEY replaces an earlier one, so getenv sees the value asked for. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const key = (e: string): string => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e);
  const replaced = new Set(extra.map(key));
  return [...base.filter((e) => !replaced.has(key(e))), ...extra];
}

function withGids(user: Process['user'], gids: number[] | undefined): Process['user'] {
  if (!gids?.length) return user;
  return { ...user, additionalGids: [...new Set([...(user.additionalGids ?? []), ...gids])] };
}

/** The directory of `sub` under the container's cgroup; it must exist and stay below it. */
function subCgroupDir(cgroupDir: string, sub: string): string {
  const dir = resolve(cgroupDir, sub.replace(/^\/+/, ''));
  if (dir !== cgroupDir && !dir.startsWith(`${cgroupDir}/`)) throw new TsrunError(`--cgroup ${sub}: not a sub-cgroup of the container's (${cgroupDir})`, { field: 'cgroup' });
  if (!existsSync(join(dir, 'cgroup.procs'))) throw new TsrunError(`--cgroup ${sub}: ${dir} is not an existing cgroup (make it first)`, { field: 'cgroup', file: dir });
  return dir;
}

type ExecOperation = 'exec' | 'exec --ignore-paused';

export function execProcess(config: Spec, opts: ExecOptions): Process {
  for (const cap of opts.caps ?? []) {
    if (!isCapabilityName(cap)) throw new TsrunError(`--cap ${cap}: not a capability name (such as CAP_NET_ADMIN)`, { field: 'cap' });
  }
  if (opts.processFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(opts.processFile, 'utf8'));
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new TsrunError(`--process ${opts.processFile}: ${why}`, { file: opts.processFile });
    }
    // Validate it as the `process` of the container's config, so errors name process.* fields.
    const proc = validateSpec({ ...config, process: raw }, opts.processFile).process!;
    return { ...proc, user: withGids(proc.user, opts.additionalGids) };
  }
  const base = config.process;
  if (!base) throw new TsrunError('the container has no process to base exec on: give --process');
  if (!opts.args || opts.args.length === 0) throw new TsrunError('exec: name the command to run after the container id (or give --process)');
  const caps = base.capabilities;
  const addCaps = (list?: string[]): string[] => [...new Set([...(list ?? []), ...(opts.caps ?? [])])];
  return {
    ...base,
    args: opts.args,
    env: mergeEnv(base.env ?? [], opts.env ?? []),
    cwd: opts.cwd ?? base.cwd,
    terminal: opts.tty ?? false,
    user: withGids(opts.user ? { ...base.user, uid: opts.user.uid, gid: opts.user.gid ?? base.user.gid } : base.user, opts.additionalGids),
    noNewPrivileges: opts.noNewPrivs ?? base.noNewPrivileges ?? false,
    ...(caps ? { capabilities: { ...caps, bounding: addCaps(caps.bounding), effective: addCaps(caps.effective), permitted: addCaps(caps.permitted) } } : {}),
  };
}

/** Whether the process's user namespace allows setgroups(2) (an exec'd process or hook drops groups then). */
export function setgroupsAllowed(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim() === 'allow';
  } catch {
    return true;
  }
}

/** The exec'd process, started in the container's namespaces and cgroup; set up and exec'd when this resolves. */
async function spawnExec(record: ContainerRecord, proc: Process, opts: ExecOptions, stateDir: string): Promise<ContainerProcess> {
  const consoleSize = proc.terminal ? callerTerminalSize() : undefined;
  const rootFd = sharesCallerMountNamespace(record.config) ? openInitRoot(record, stateDir, opts.id, opts.ignorePaused ? 'exec --ignore-paused' : 'exec') : -1;
  try {
    const plan = withStdio(execPlan(record.config, proc, {
      initPid: record.pid, setgroupsAllowed: setgroupsAllowed(record.pid), detach: opts.detach ?? false,
      ...(rootFd >= 0 ? { initRootFd: rootFd } : {}), ...(consoleSize ? { consoleSize } : {}),
      ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
    }), opts.stdio);
    const cgroupDir = record.cgroupDir && opts.subCgroup !== undefined ? subCgroupDir(record.cgroupDir, opts.subCgroup) : record.cgroupDir;
    const cgroup = cgroupDir ? loadCgroup(cgroupDir, record.cgroupOwnedRoot) : undefined;
    return await startInCgroup(plan, {
      trace: opts.trace ?? noTrace, traceSteps: opts.trace !== undefined, ...(cgroup ? { cgroup } : {}),
      clone3: !spawnSettings().noClone3 && !joinsCgroupNamespace(record.config), warn: quietWarn(opts.warn),
    });
  } finally {
    if (rootFd >= 0) closeSync(rootFd);
  }
}

/**
 * The exec'd process, spawned and past its exec (its pid file and console handed over): the part of
 * `tsrun exec` the library shares. Waiting for it is the caller's (foreground, detached, or the
 * library's own wait that leaves the process's signal handlers alone).
 */
export async function startExec(opts: ExecOptions): Promise<ContainerProcess> {
  const undo = new UndoStack();
  const warn = quietWarn(opts.warn);
  let started: ContainerProcess;
  try {
    // Under the container's lock until the process is in the container: a delete or pause waits.
    started = await withContainer(opts.root, opts.id, opts.ignorePaused ? 'exec --ignore-paused' : 'exec', async ({ store, record }) => {
      if (opts.subCgroup !== undefined && !record.cgroupDir) throw new TsrunError(`--cgroup ${opts.subCgroup}: container ${opts.id} has no cgroup`, { field: 'cgroup' });
      const proc = execProcess(record.config, opts);
      if (proc.terminal && opts.detach && !opts.consoleSocket) throw new TsrunError('exec -t -d needs --console-socket to receive the pty');
      const spawned = await spawnExec(record, proc, opts, store.dir(opts.id));
      undo.push(`the exec'd process ${spawned.pid}`, () => spawned.destroy());
      return spawned;
    });
    const child = started;
    if (opts.pidFile) {
      const pidFile = opts.pidFile;
      writePidFile(pidFile, child.pid);
      undo.push(`the pid file ${pidFile}`, () => rmSync(pidFile, { force: true }));
    }
    if (opts.consoleSocket) handOverConsole(child, opts.consoleSocket);
    await child.untilExec();
  } catch (err) {
    await undo.unwind('exec', warn);
    throw err;
  }
  return started;
}

export async function execInContainer(opts: ExecOptions): Promise<{ exitCode: number; signal?: string; pid: number }> {
  if (opts.detach) return { exitCode: 0, pid: (await startExec(opts)).pid };
  // Installed before the set-up, as run does: a signal that arrives meanwhile is held for the process
  // instead of killing tsrun half-way (with the process already in the container, or about to be).
  const signals = forwardSignals();
  try {
    const started = await startExec(opts);
    signals.target(started.pid);
    return { ...(await waitForeground(started.pid, started.consoleFd)), pid: started.pid };
  } finally {
    signals.stop();
  }
}
