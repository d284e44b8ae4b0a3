// `tsrun exec`: run another process in a running container. tsrun-init (never a fork of Node: see
// tsrun_spawn in native-bindings/shim.c) joins every namespace of the container's init and clones
// the new process into the container's cgroup; the process settings are then applied as in `run`.
// A container without a mount namespace of its own has a chroot for a root, which no namespace
// carries: the exec'd process enters the init's root itself, as the init did.
import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { NamespaceType, Process, Spec } from '../oci/types.js';
import { validateSpec } from '../oci/validate.js';
import { isCapabilityName } from '../oci/capabilities.js';
import { NAMESPACE_FLAGS } from '../namespaces/plan.js';
import { processSteps } from '../process/plan.js';
import * as shim from '../native/shim.js';
import type { NamespacePlan, Plan, Step } from '../plan/types.js';
import { handOverConsole, startProcess, type ContainerProcess } from '../process/parent.js';
import { forwardSignals } from '../process/signals.js';
import { waitForeground } from '../process/foreground.js';
import { callerTerminalSize } from '../process/terminal.js';
import type { TraceSink } from '../process/trace.js';
import { loadCgroup } from '../cgroups/index.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import { containerStatus } from '../state/status.js';
import { writePidFile } from '../state/pid-file.js';
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
  trace?: TraceSink;
  /** fds of tsrun's that become the process's stdin/stdout/stderr (the library's pipes); default: tsrun's own. */
  stdio?: StdioFds;
}

const NS_FILE: Record<NamespaceType, string> = {
  pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
};

/** Every namespace the container has (created or joined), joined through its init's /proc entries. */
export function joinPlan(config: Spec, initPid: number): NamespacePlan[] {
  const types = (config.linux?.namespaces ?? []).map((n) => n.type);
  const joins = types.map((type): NamespacePlan => ({ type, flag: NAMESPACE_FLAGS[type], action: 'join', path: `/proc/${initPid}/ns/${NS_FILE[type]}` }));
  // A time namespace first: tsrun makes it (tsrun-init's first stage, before the user namespace
  // exists), so the user namespace it belongs to is tsrun's, and joining it needs tsrun's
  // CAP_SYS_ADMIN, which setns into the container's user namespace gives up. Then the user namespace,
  // which decides what the other joins are checked against.
  const rank = (t: NamespaceType): number => (t === 'time' ? 0 : t === 'user' ? 1 : 2);
  return joins.sort((a, b) => rank(a.type) - rank(b.type));
}

/**
 * How a process that joins the container's namespaces gets into its cgroup: born inside (clone3
 * CLONE_INTO_CGROUP with `cgroupFd`), unless it joins a cgroup namespace of the container. Then the
 * kernel refuses that clone from outside the namespace when cgroup2 is mounted with nsdelegate
 * (systemd's default): ENOENT, a delegation boundary. Such a process is placed by tsrun, which writes
 * its pid to cgroup.procs from the host's cgroup namespace while it waits (runc does that for every exec).
 */
export function joinCgroup(cgroupDir: string | undefined, config: Spec): { cgroupFd: number; beforeGo?: (pid: number) => void } {
  if (cgroupDir === undefined) return { cgroupFd: -1 };
  const cgroup = loadCgroup(cgroupDir);
  if ((config.linux?.namespaces ?? []).some((n) => n.type === 'cgroup')) return { cgroupFd: -1, beforeGo: (pid) => cgroup.addProcess(pid) };
  return { cgroupFd: cgroup.openDirFd() };
}

/** The container shares the caller's mount namespace: its root is a chroot, not a namespace's root. */
export function sharesCallerMountNamespace(config: Spec): boolean {
  return !(config.linux?.namespaces ?? []).some((n) => n.type === 'mount');
}

/**
 * setns into a mount namespace also moves the process to that namespace's root (the container's,
 * after pivot_root). A container without one entered its rootfs with chroot, which setns cannot
 * give: the exec'd process chroots into the init's root (`initRoot`: a path naming that directory, /proc/self/fd/N of tsrun's fd),
 * while still privileged, as the init did. process.cwd follows in processSteps, after the user switch.
 */
function enterInitRootSteps(initRoot: string): Step[] {
  return [
    { op: 'chdir', path: initRoot, field: 'root.path', why: 'no mount namespace of its own: the container\'s root is the init\'s chroot, held open by tsrun as /proc/<init>/root' },
    { op: 'chroot', path: '.', field: 'root.path', why: 'enter the same root as the container\'s init; joining its namespaces does not change the root' },
    { op: 'chdir', path: '/', why: 'start from the new root' },
  ];
}

/**
 * An fd of the init's root directory (/proc/PID/root), for a container without a mount namespace.
 * Opened from the host, before any namespace is joined, and checked *after* opening: if the pid still
 * names the init (same start time) now, the fd is the init's root and not that of a process that
 * reused the pid. No path string of the rootfs is resolved again, so a symlink or directory swapped
 * into the bundle's path since create cannot redirect the exec. libuv opens it O_CLOEXEC.
 */
function openInitRoot(record: ContainerRecord, stateDir: string, id: string): number {
  let fd = -1;
  let why = '';
  try {
    fd = openSync(`/proc/${record.pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  const status = containerStatus(record, stateDir);
  if (status !== 'running' && status !== 'created') {
    if (fd >= 0) closeSync(fd);
    throw new TsrunError(`cannot exec in container ${id}: it is ${status}`);
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
    return validateSpec({ ...config, process: raw }, opts.processFile).process!;
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
    user: opts.user ? { ...base.user, uid: opts.user.uid, gid: opts.user.gid ?? base.user.gid } : base.user,
    noNewPrivileges: opts.noNewPrivs ?? base.noNewPrivileges ?? false,
    ...(caps ? { capabilities: { ...caps, bounding: addCaps(caps.bounding), effective: addCaps(caps.effective), permitted: addCaps(caps.permitted) } } : {}),
  };
}

export interface ExecPlanContext {
  /** Host pid of the container's init, whose namespaces are joined. */
  initPid: number;
  /** An fd of tsrun's on the init's root directory; required when the container has no mount namespace. */
  initRootFd?: number;
  setgroupsAllowed: boolean;
  detach: boolean;
  consoleSize?: { rows: number; cols: number };
}

/** The plan of an exec'd process: join the init's namespaces, enter its root if no namespace gives it, then `process`. */
export function execPlan(config: Spec, proc: Process, ctx: ExecPlanContext): Plan {
  const enterRoot = sharesCallerMountNamespace(config);
  if (enterRoot && ctx.initRootFd === undefined) {
    throw new TsrunError('exec: the container has no mount namespace, so the plan needs the init\'s root to enter');
  }
  return {
    namespaces: joinPlan(config, ctx.initPid),
    cloneFlags: 0,
    waitForParent: true,
    dieWithParent: !ctx.detach,
    preserveFds: 0,
    // The root fd is close-on-exec in tsrun: passed through the exec of tsrun-init, which reaches it
    // through its own /proc/self/fd.
    ...(enterRoot ? { passFds: [ctx.initRootFd!] } : {}),
    steps: [
      ...(enterRoot ? enterInitRootSteps(`/proc/self/fd/${ctx.initRootFd!}`) : []),
      ...processSteps(proc, { setgroupsAllowed: ctx.setgroupsAllowed, ...(ctx.consoleSize ? { consoleSize: ctx.consoleSize } : {}), ...(config.linux?.seccomp ? { seccomp: config.linux.seccomp } : {}) }),
    ],
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

/**
 * The exec'd process, spawned and past its exec (or its pid file and console handed over): the part
 * of `tsrun exec` the library shares. Waiting for it is the caller's (foreground, detached, or the
 * library's own wait without touching the process's signal handlers).
 */
export async function startExec(opts: ExecOptions): Promise<ContainerProcess> {
  const store = new StateStore(opts.root);
  const record = store.read(opts.id);
  const status = containerStatus(record, store.dir(opts.id));
  if (status !== 'running' && status !== 'created') throw new TsrunError(`cannot exec in container ${opts.id}: it is ${status}`);
  const proc = execProcess(record.config, opts);
  if (proc.terminal && opts.detach && !opts.consoleSocket) throw new TsrunError('exec -t -d needs --console-socket to receive the pty');
  const consoleSize = proc.terminal ? callerTerminalSize() : undefined;
  const rootFd = sharesCallerMountNamespace(record.config) ? openInitRoot(record, store.dir(opts.id), opts.id) : -1;
  let started;
  try {
    const plan = withStdio(execPlan(record.config, proc, {
      initPid: record.pid, setgroupsAllowed: setgroupsAllowed(record.pid), detach: opts.detach ?? false,
      ...(rootFd >= 0 ? { initRootFd: rootFd } : {}), ...(consoleSize ? { consoleSize } : {}),
    }), opts.stdio);
    const { cgroupFd, beforeGo } = joinCgroup(record.cgroupDir, record.config);
    try {
      started = await startProcess(plan, { trace: opts.trace ?? { event: () => {} }, traceSteps: opts.trace !== undefined, cgroupFd, ...(beforeGo ? { beforeGo } : {}) });
    } finally {
      if (cgroupFd >= 0) shim.closeFd(cgroupFd);
    }
  } finally {
    if (rootFd >= 0) closeSync(rootFd);
  }
  if (opts.pidFile) {
    try {
      writePidFile(opts.pidFile, started.pid);
    } catch (err) {
      try { process.kill(started.pid, 'SIGKILL'); } catch { /* gone */ }
      throw err;
    }
  }
  if (opts.consoleSocket) handOverConsole(started, opts.consoleSocket);
  await started.untilExec();
  return started;
}

export async function execInContainer(opts: ExecOptions): Promise<{ exitCode: number; signal?: string; pid: number }> {
  const started = await startExec(opts);
  if (opts.detach) return { exitCode: 0, pid: started.pid };
  const signals = forwardSignals();
  signals.target(started.pid);
  try {
    return { ...(await waitForeground(started.pid, started.consoleFd)), pid: started.pid };
  } finally {
    signals.stop();
  }
}
