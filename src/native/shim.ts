// koffi bindings of native-bindings/libtsrun-shim.so. Loaded lazily: commands that never spawn a
// process (spec, explain, state) do not pay for loading a native library.
import type { LibraryHandle } from 'koffi';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { TsrunError } from '../errors.js';
import { errnoName } from './errno.js';
import { lazyFunctions, loadKoffi } from './koffi.js';
import { spawnSettings } from './spawn-settings.js';

export interface SpawnResult {
  /** The child; with `twoStage`, tsrun-init's first stage, which reports the container process's pid. */
  pid: number;
  syncFd: number;
  /** tsrun-init joins or creates the namespaces and clones the container process (see tsrun_spawn). */
  twoStage: boolean;
  /** clone3(CLONE_INTO_CGROUP) started the child (clone otherwise). */
  clone3: boolean;
  /** What the container side runs from: tsrun-init on a read-only mount, or a sealed memfd copy. */
  initCopy: 'read-only mount' | 'sealed memfd';
}
export interface Report {
  kind: number;
  step: number;
  err: number;
  value: number;
  startNs: bigint;
  endNs: bigint;
  syscall: string;
  /** An fd sent along with the report (the pty master), or -1. */
  fd: number;
}

export type KoffiFunction = ReturnType<LibraryHandle['func']>;

/** The library's functions as koffi binds them (PROTOTYPES): what a stand-in must provide. */
export interface ShimFunctions {
  spawn: (plan: Buffer, len: number, cgroupFd: number, initPath: string, flags: number, out: Record<string, unknown>) => number;
  spawnWarm: KoffiFunction;
  threadId: () => number;
  warmAhead: KoffiFunction;
  sendPlan: (syncFd: number, plan: Buffer, len: number, fds: Int32Array, targets: Int32Array, n: number) => number;
  mountsChanged: (fd: number) => number;
  recvReport: KoffiFunction;
  recvReportWithin: (fd: number, timeoutMs: number, out: Record<string, unknown>, passedFd: number[]) => number;
  sendByte: (fd: number, byte: number) => number;
  wait: KoffiFunction;
  waitNohang: (pid: number, status: number[]) => number;
  setWinsize: (fd: number, rows: number, cols: number) => number;
  sendFd: (socketPath: string, fd: number) => number;
  close: (fd: number) => number;
  exitNow: (code: number) => void;
  mkfifo: (path: string, mode: number) => number;
  renameExchange: (a: string, b: string) => number;
  renameNoReplace: (a: string, b: string) => number;
  pipe: (fds: number[]) => number;
  memfd: (name: string) => number;
  pidfdOpen: (pid: number) => number;
  pollReadable: KoffiFunction;
  pidfdSendSignal: (pidfd: number, sig: number) => number;
  flock: KoffiFunction & ((fd: number, op: number) => number);
  ttyMakeRaw: (fd: number, saved: Buffer, len: number) => number;
  ttyRestore: (fd: number, saved: Buffer, len: number) => number;
  umountMount: (path: string, mountId: number) => number;
  bpfProgLoad: (progType: number, attachType: number, insns: Buffer, insnCount: number, license: string, name: string, log: Buffer | null, logSize: number) => number;
  bpfProgAttach: (attach: number, targetFd: number, progFd: number, attachType: number, flags: number) => number;
  bpfProgQuery: (targetFd: number, attachType: number, ids: Uint32Array, max: number) => number;
  bpfProgFdById: (id: number) => number;
}

const PROTOTYPES: Record<keyof ShimFunctions, string> = {
  spawn: 'int tsrun_spawn(const uint8_t *plan, uint32_t len, int cgroup_fd, const char *init_path, int flags, _Out_ tsrun_spawn_result *out)',
  spawnWarm: 'int tsrun_spawn_warm(uint64_t clone_flags, const char *cgroup_dir, const char *root_procs, int owner_tid, const char *init_path, int flags, _Out_ tsrun_spawn_result *out)',
  threadId: 'int tsrun_thread_id(void)',
  warmAhead: 'int tsrun_warm_ahead(int sync_fd, const uint8_t *ahead, uint32_t len, _Inout_ uint8_t *what, uint32_t what_size)',
  sendPlan: 'int tsrun_send_plan(int sync_fd, const uint8_t *plan, uint32_t len, const int32_t *fds, const int32_t *targets, int n)',
  mountsChanged: 'int tsrun_mounts_changed(int fd)',
  recvReport: 'int tsrun_recv_report(int fd, _Out_ tsrun_report *out, _Out_ int *passed_fd)',
  recvReportWithin: 'int tsrun_recv_report_within(int fd, int timeout_ms, _Out_ tsrun_report *out, _Out_ int *passed_fd)',
  sendByte: 'int tsrun_send_byte(int fd, int byte)',
  wait: 'int tsrun_wait(int pid, _Out_ int *status)',
  waitNohang: 'int tsrun_wait_nohang(int pid, _Out_ int *status)',
  setWinsize: 'int tsrun_set_winsize(int fd, int rows, int cols)',
  sendFd: 'int tsrun_send_fd(const char *socket_path, int fd)',
  close: 'int tsrun_close(int fd)',
  exitNow: 'void tsrun_exit_now(int code)',
  mkfifo: 'int tsrun_mkfifo(const char *path, int mode)',
  renameExchange: 'int tsrun_rename_exchange(const char *a, const char *b)',
  renameNoReplace: 'int tsrun_rename_noreplace(const char *a, const char *b)',
  pipe: 'int tsrun_pipe(_Out_ int *fds)',
  memfd: 'int tsrun_memfd(const char *name)',
  pidfdOpen: 'int tsrun_pidfd_open(int pid)',
  pollReadable: 'int tsrun_poll_readable(int fd, int timeout_ms)',
  pidfdSendSignal: 'int tsrun_pidfd_send_signal(int pidfd, int sig)',
  flock: 'int tsrun_flock(int fd, int op)',
  ttyMakeRaw: 'int tsrun_tty_make_raw(int fd, _Inout_ uint8_t *saved, int saved_len)',
  ttyRestore: 'int tsrun_tty_restore(int fd, const uint8_t *saved, int saved_len)',
  umountMount: 'int tsrun_umount_mount(const char *path, int mount_id)',
  bpfProgLoad: 'int tsrun_bpf_prog_load(uint32_t prog_type, uint32_t attach_type, const uint8_t *insns, uint32_t insn_cnt, const char *license, const char *name, _Inout_ uint8_t *log, uint32_t log_size)',
  bpfProgAttach: 'int tsrun_bpf_prog_attach(int attach, int target_fd, int prog_fd, uint32_t attach_type, uint32_t flags)',
  bpfProgQuery: 'int tsrun_bpf_prog_query(int target_fd, uint32_t attach_type, _Inout_ uint32_t *ids, uint32_t max)',
  bpfProgFdById: 'int tsrun_bpf_prog_fd_by_id(uint32_t id)',
};

let shim: ShimFunctions | undefined;

/** The shim is built into native-bindings/build/ of the package (`make build`), unless the settings name another. */
function libraryPath(): string {
  const path = spawnSettings().shimLibrary ?? join(packageRoot(), 'native-bindings', 'build', 'libtsrun-shim.so');
  if (!existsSync(path)) throw new TsrunError(`native shim ${path} not found: run \`make build\` (it compiles native-bindings/shim.c)`);
  return path;
}

/** The bound functions, for the other native/ modules (warm.ts). */
export function loadShim(): ShimFunctions {
  return load();
}

function load(): ShimFunctions {
  if (shim) return shim;
  const koffi = loadKoffi();
  const lib = koffi.load(libraryPath());
  koffi.struct('tsrun_spawn_result', {
    pid: 'int32_t', sync_fd: 'int32_t', err: 'int32_t', step: 'int32_t', what: koffi.array('char', 64),
    two_stage: 'int32_t', clone3: 'int32_t', init_kind: 'int32_t', mounts_fd: 'int32_t',
  });
  koffi.struct('tsrun_report', {
    kind: 'uint32_t', step: 'int32_t', err: 'int32_t', value: 'int32_t',
    start_ns: 'uint64_t', end_ns: 'uint64_t', syscall: koffi.array('char', 32),
  });
  shim = lazyFunctions<ShimFunctions>(lib, PROTOTYPES);
  return shim;
}

export function check(rc: number, what: string): number {
  if (rc < 0) throw new TsrunError(`${what}: ${errnoName(-rc)}`, { syscall: what, errno: errnoName(-rc) });
  return rc;
}

/**
 * The program every process tsrun puts in a container runs: native-bindings/build/tsrun-init, or the
 * one the settings name (the tests point it at a copy). The shim execs a read-only copy of it (see
 * tsrun_spawn).
 */
let packageInit: string | undefined;
export function initProgram(): string {
  return spawnSettings().initProgram ?? (packageInit ??= join(packageRoot(), 'native-bindings', 'build', 'tsrun-init'));
}

/** tsrun_spawn's flags (shim.h). */
const SPAWN_TWO_STAGE = 1;
const SPAWN_SEALED_COPY = 2;

/**
 * Starts the container side: a clone that execs tsrun-init, which runs the plan (or, `twoStage`,
 * first joins or creates the namespaces and clones the container process). `twoStage` forces that
 * shape on a plan that does not need it (the tests compare both); the settings' initCopy 'memfd'
 * forces the sealed memfd copy of tsrun-init, the fallback where a read-only mount of it is refused.
 */
export function spawn(plan: Buffer, cgroupFd = -1, opts: { twoStage?: boolean } = {}): SpawnResult {
  const out: Record<string, unknown> = {};
  const init = initProgram();
  const rc = load().spawn(plan, plan.length, cgroupFd, init, spawnFlags(opts), out);
  return spawnOutcome(rc, out, init);
}

/** tsrun_spawn's flags for these options and the spawn settings. */
export function spawnFlags(opts: { twoStage?: boolean }): number {
  return (opts.twoStage ? SPAWN_TWO_STAGE : 0) | (spawnSettings().initCopy === 'memfd' ? SPAWN_SEALED_COPY : 0);
}

/** What tsrun_spawn returned: the spawned process, or the error naming the call that failed. */
export function spawnOutcome(rc: number, out: Record<string, unknown>, init: string): SpawnResult {
  if (rc < 0) {
    const what = String(out.what ?? 'spawn');
    const step = Number(out.step ?? -1);
    const where = step >= 0 ? ` (plan step ${step})` : '';
    if (what === 'tsrun-init') {
      const hint = existsSync(init) ? '' : ': run `make build` (it compiles native-bindings/shim.c)';
      throw new TsrunError(`tsrun-init ${init}: ${errnoName(-rc)}${hint}`, { syscall: 'open_tree', errno: errnoName(-rc), file: init });
    }
    throw new TsrunError(`${what}${where}: ${errnoName(-rc)}`, { syscall: what, errno: errnoName(-rc) });
  }
  return {
    pid: Number(out.pid), syncFd: Number(out.sync_fd), twoStage: Number(out.two_stage) === 1, clone3: Number(out.clone3) === 1,
    initCopy: Number(out.init_kind) === 2 ? 'sealed memfd' : 'read-only mount',
  };
}

function toReport(rc: number, out: Record<string, unknown>, passedFd: number): Report | undefined {
  if (rc < 0) throw new TsrunError(`reading the container's sync socket: ${errnoName(-rc)}`);
  if (rc === 0) return undefined;
  return {
    kind: Number(out.kind), step: Number(out.step), err: Number(out.err), value: Number(out.value),
    startNs: BigInt(out.start_ns as number | bigint), endNs: BigInt(out.end_ns as number | bigint),
    syscall: String(out.syscall ?? ''), fd: passedFd,
  };
}

/** Next report from the child, or undefined at EOF (it exec'd or died). Runs on a worker thread. */
export function recvReport(syncFd: number): Promise<Report | undefined> {
  return new Promise((resolve, reject) => {
    const out: Record<string, unknown> = {};
    const fdOut = [-1];
    load().recvReport.async(syncFd, out, fdOut, (err: unknown, rc: number) => {
      if (err) return reject(err);
      try { resolve(toReport(rc, out, fdOut[0] ?? -1)); } catch (e) { reject(e); }
    });
  });
}

/**
 * Next report as recvReport, but read on this thread when it arrives within `timeoutMs`; 'timeout'
 * otherwise. A container's set-up takes about a millisecond: waiting for it here saves the hop to a
 * worker thread (and starting libuv's thread pool, ~1 ms); a slow child is then read by recvReport.
 */
export function recvReportWithin(syncFd: number, timeoutMs: number): Report | undefined | 'timeout' {
  const out: Record<string, unknown> = {};
  const fdOut = [-1];
  const rc = load().recvReportWithin(syncFd, timeoutMs, out, fdOut);
  if (rc === -osConstants.errno.ETIMEDOUT) return 'timeout';
  return toReport(rc, out, fdOut[0] ?? -1);
}

export function sendByte(syncFd: number, byte = 1): void {
  check(load().sendByte(syncFd, byte), 'send(sync socket)');
}

export function waitpidError(pid: number, rc: number): TsrunError {
  return new TsrunError(`waitpid(${pid}): ${errnoName(-rc)}`, { syscall: 'waitpid', errno: errnoName(-rc) });
}

/** waitpid() on a worker thread, so Node's event loop keeps forwarding signals meanwhile. */
export function waitPid(pid: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const status = [0];
    load().wait.async(pid, status, (err: unknown, rc: number) => {
      if (err) return reject(err);
      if (rc < 0) return reject(waitpidError(pid, rc));
      resolve(status[0] ?? 0);
    });
  });
}

/** waitpid(WNOHANG): the wait status once `pid` has been reaped, undefined while it runs. */
export function waitPidNohang(pid: number): number | undefined {
  const status = [0];
  const rc = load().waitNohang(pid, status);
  if (rc < 0) throw waitpidError(pid, rc);
  return rc === 0 ? undefined : (status[0] ?? 0);
}

/** bpf(2) commands (native-bindings/shim.c): each returns what the kernel returned, or -errno. */
export const bpfCalls = {
  progLoad: (progType: number, attachType: number, insns: Buffer, license: string, name: string, log: Buffer | null): number =>
    load().bpfProgLoad(progType, attachType, insns, insns.length / 8, license, name, log, log?.length ?? 0),
  progAttach: (attach: boolean, targetFd: number, progFd: number, attachType: number, flags: number): number =>
    load().bpfProgAttach(attach ? 1 : 0, targetFd, progFd, attachType, flags),
  progQuery: (targetFd: number, attachType: number, ids: Uint32Array): number =>
    load().bpfProgQuery(targetFd, attachType, ids, ids.length),
  progFdById: (id: number): number => load().bpfProgFdById(id),
};

export function setWinsize(fd: number, rows: number, cols: number): void {
  check(load().setWinsize(fd, rows, cols), 'ioctl(TIOCSWINSZ)');
}

export function sendFd(socketPath: string, fd: number): void {
  check(load().sendFd(socketPath, fd), `sending the console to ${socketPath}`);
}

/**
 * Puts `standIn` in place of the native library until the returned function is called. The snapshot
 * warm-up rehearses `run` against one (src/startup/rehearsal-shim.ts) so that V8 compiles this code at
 * build time; the restore forgets what the rehearsal cached here, so no start inherits it.
 */
export function substitute(standIn: ShimFunctions): () => void {
  if (shim) throw new Error('substitute: the native shim is already loaded');
  shim = standIn;
  return () => {
    shim = undefined;
    packageInit = undefined;
  };
}

/** Loads the library now, e.g. so a trace does not count its loading as part of clone(). */
export function preload(): void {
  load();
}

/** True once the shim is loaded (a command that spawned, waited or locked). */
export function isLoaded(): boolean {
  return shim !== undefined;
}

/**
 * _exit(2), for the CLI's last step once the shim is loaded anyway: Node's own exit would free its
 * heap, join its threads and run OpenSSL's and ICU's clean-ups, ~1 ms (A/B, 60 alternating runs)
 * that the kernel does for free. Nothing written is lost: Node writes stdout and stderr synchronously
 * on Linux. The caller runs the 'exit' listeners first, as process.exit() would.
 */
export function exitNow(code: number): never {
  load().exitNow(code);
  throw new Error('_exit returned');
}

export function closeFd(fd: number): void {
  load().close(fd);
}

export function mkfifo(path: string, mode: number): void {
  check(load().mkfifo(path, mode), `mkfifo ${path}`);
}

/**
 * Swaps the names `a` and `b` (renameat2 RENAME_EXCHANGE): 'swapped', or the errno name (ENOENT when
 * one is missing; EINVAL or ENOSYS where the file system or kernel cannot).
 */
export function renameExchange(a: string, b: string): 'swapped' | string {
  const rc = load().renameExchange(a, b);
  return rc < 0 ? errnoName(-rc) : 'swapped';
}

/** renameat2(RENAME_NOREPLACE): 'renamed', or the errno's name (EEXIST: `b` is taken; ENOENT, EINVAL…). */
export function renameNoReplace(a: string, b: string): 'renamed' | string {
  const rc = load().renameNoReplace(a, b);
  return rc < 0 ? errnoName(-rc) : 'renamed';
}

/** memfd_create(MFD_CLOEXEC): a memory file's fd. */
export function memfd(name: string): number {
  return check(load().memfd(name), 'memfd_create');
}

/** pipe2(O_CLOEXEC): [read end, write end]. */
export function pipe(): [number, number] {
  const fds = [-1, -1];
  check(load().pipe(fds), 'pipe2');
  return [fds[0]!, fds[1]!];
}

/** A pidfd for `pid`, or undefined when the process no longer exists. */
export function pidfdOpen(pid: number): number | undefined {
  const fd = load().pidfdOpen(pid);
  if (fd === -3 /* ESRCH */) return undefined;
  return check(fd, `pidfd_open(${pid})`);
}

/** Resolves true when fd becomes readable (a pidfd: the process exited), false after timeoutMs. */
export function pollReadable(fd: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    load().pollReadable.async(fd, timeoutMs, (err: unknown, rc: number) => {
      if (err) return reject(err);
      if (rc < 0) return reject(new TsrunError(`poll: ${errnoName(-rc)}`, { syscall: 'poll', errno: errnoName(-rc) }));
      resolve(rc > 0);
    });
  });
}

/** Puts the terminal on fd into raw mode (cfmakeraw); returns what restores it. */
export function makeRaw(fd: number): () => void {
  const saved = Buffer.alloc(128);
  check(load().ttyMakeRaw(fd, saved, saved.length), 'tcsetattr');
  return () => void load().ttyRestore(fd, saved, saved.length);
}

/**
 * flock(LOCK_EX). Tried without blocking first (the usual case: nobody holds it), which saves a trip
 * through a worker thread; if another tsrun holds the lock, waits on a worker thread so Node's event
 * loop keeps running (signals).
 */
export async function flockExclusive(fd: number): Promise<void> {
  const rc = load().flock(fd, 2 /* LOCK_EX */ | 4 /* LOCK_NB */) as number;
  if (rc === 0) return;
  if (errnoName(-rc) !== 'EWOULDBLOCK' && errnoName(-rc) !== 'EAGAIN') throw new TsrunError(`flock: ${errnoName(-rc)}`, { syscall: 'flock', errno: errnoName(-rc) });
  return new Promise((resolve, reject) => {
    load().flock.async(fd, 2 /* LOCK_EX */, (err: unknown, rc: number) => {
      if (err) return reject(err);
      if (rc < 0) return reject(new TsrunError(`flock: ${errnoName(-rc)}`, { syscall: 'flock', errno: errnoName(-rc) }));
      resolve();
    });
  });
}

/** Signals through a pidfd, so a pid reused after the process died is never hit. */
export function pidfdSendSignal(pidfd: number, sig: number): void {
  check(load().pidfdSendSignal(pidfd, sig), 'pidfd_send_signal');
}

/**
 * umount2(MNT_DETACH) of the mount at `path` only if it is mount `mountId` (see tsrun_umount_mount):
 * 'gone' when nothing is there any more, 'other' when the path now holds another mount or a symlink.
 */
export function umountMount(path: string, mountId: number): 'unmounted' | 'gone' | 'other' {
  const rc = load().umountMount(path, mountId);
  if (rc === 0) return 'unmounted';
  const errno = errnoName(-rc);
  if (errno === 'ENOENT') return 'gone';
  if (errno === 'ESTALE' || errno === 'ELOOP' || errno === 'ENOTDIR') return 'other';
  throw new TsrunError(`umount2 ${path} (mount ${mountId}): ${errno}`, { syscall: 'umount2', errno, file: path });
}
