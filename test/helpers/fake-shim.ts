// A scriptable stand-in for libtsrun-shim.so, for unit tests of the code that spawns, waits, locks and
// cleans up (runc's mockCgroupManager, youki's TestHelperSyscall): no root, no process in a namespace.
//
// Each tsrun_spawn decodes the plan it is given and makes a FakeChild (fake-child.ts) that plays it. A
// test scripts what goes wrong — tsrun_spawn failing (clone3 ENOSYS), a step failing, the child dying
// (EOF) before a step, reports slow enough to go to the worker thread — and reads back what happened:
// the plans, the signals sent, the fds and children left.
//
// Children have pids above any pid_max, so the kernel answers ESRCH for them; process.kill is wrapped
// so that a SIGKILL of one reaches the fake (and is recorded) instead. Every fd the fake hands out
// (sync sockets, pidfds, pty masters) is a real fd on /dev/null, so a leak shows in /proc/self/fd.
// A signal to a process the fake does not own (the test runner, as a container's `creator`) is only
// recorded, never sent.
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, lstatSync, openSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { REPORT } from '../../src/native/ops.js';
import { substitute, type KoffiFunction, type ShimFunctions } from '../../src/native/shim.js';
import { decodePlan, type WirePlan } from './decode-plan.js';
import { errnoNumber, FakeChild, type ChildScript } from './fake-child.js';

export { FakeChild, type ChildScript } from './fake-child.js';

const E = constants.errno;

/** Above any pid_max (at most 2^22): kill(2) of these is ESRCH in the kernel. */
const FIRST_FAKE_PID = 2 ** 31 - 100;

/**
 * A koffi binding from `sync`, which answers a return code or undefined when the call would block;
 * its async form (a worker thread's) parks on `park` until woken, then tries again.
 */
function binding<A extends unknown[]>(sync: (...a: A) => number | undefined, park: (...a: A) => ((wake: () => void) => void) | undefined): KoffiFunction {
  const call = (...a: unknown[]): number => sync(...(a as A)) ?? -E.EAGAIN;
  const async = (...args: unknown[]): void => {
    const done = args.pop() as (err: unknown, rc: number) => void;
    const attempt = (): void => {
      const rc = sync(...(args as A));
      if (rc !== undefined) return void setImmediate(() => done(null, rc));
      const wait = park(...(args as A));
      if (!wait) return void setImmediate(() => done(null, -E.EAGAIN));
      wait(attempt);
    };
    attempt();
  };
  return Object.assign(call, { async, info: undefined as unknown as KoffiFunction['info'] });
}

export class FakeShim {
  readonly children: FakeChild[] = [];
  /** pidfd_send_signal calls at processes the fake does not own. */
  readonly foreignSignals: { pid: number; sig: number }[] = [];
  readonly fifos: string[] = [];
  readonly consoleHandOvers: { socketPath: string; fd: number }[] = [];
  readonly unmounts: { path: string; mountId: number }[] = [];
  /** flock calls that find the lock busy before it is granted (set by a test). */
  flockBusy = 0;
  private nextPid = FIRST_FAKE_PID;
  /** tsrun_spawn calls so far, failed ones included: the `n` a script is asked about. */
  private spawns = 0;
  private readonly pidfds = new Map<number, number>();
  private readonly fds = new Set<number>();
  private restoreShim: (() => void) | undefined;
  private realKill: typeof process.kill | undefined;

  constructor(
    private readonly scriptFor: (n: number, plan: WirePlan) => ChildScript = () => ({}),
    /** Bindings that answer otherwise (a test of the wrappers in native/shim.ts scripts return codes). */
    private readonly patch: Partial<ShimFunctions> = {},
  ) {}

  /** Puts the fake in place of the native library (and of process.kill for its pids) until uninstall(). */
  install(): this {
    this.restoreShim = substitute({ ...this.bindings(), ...this.patch });
    const realKill = process.kill.bind(process);
    this.realKill = realKill;
    process.kill = ((pid: number, sig?: string | number) => {
      const child = this.byPid(pid);
      if (!child) return realKill(pid, sig);
      if (sig === 0) {
        if (child.state === 'gone') throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
        return true;
      }
      child.signal(sig ?? 'SIGTERM');
      return true;
    }) as typeof process.kill;
    return this;
  }

  uninstall(): void {
    this.restoreShim?.();
    if (this.realKill) process.kill = this.realKill;
    for (const c of this.children) c.script.standIn?.kill('SIGKILL');
  }

  /** fds the fake handed out that nobody closed. */
  openFds(): number[] {
    return [...this.fds];
  }

  /** Children not gone. */
  living(): FakeChild[] {
    return this.children.filter((c) => c.state !== 'gone');
  }

  /** The child with this pid (a container process or a two-stage first stage). */
  byPid(pid: number): FakeChild | undefined {
    return this.children.find((c) => c.pid === pid);
  }

  /**
   * A real process the test started plays a container's init that some earlier create made (for
   * exec, start, kill, delete): signals through process.kill or a pidfd reach it, and waits see it go.
   */
  adopt(standIn: ChildProcess): FakeChild {
    const idle: WirePlan = { cloneFlags: 0n, waitGo: false, trace: false, pdeathsig: false, preserveFds: 0, passFds: [], joins: [], steps: [] };
    const child = new FakeChild(standIn.pid!, -1, idle, -1, false, { standIn }, () => this.realFd());
    if (child.state !== 'gone') child.state = 'execd';
    this.children.push(child);
    return child;
  }

  private realFd(): number {
    const fd = openSync('/dev/null', 'r');
    this.fds.add(fd);
    return fd;
  }

  private bySync(fd: number): FakeChild | undefined {
    return fd < 0 ? undefined : this.children.find((c) => c.syncFd === fd);
  }

  /** CLONE_INTO_CGROUP: the child starts in the cgroup the fd names (listed there when it is a fake cgroupfs). */
  private bornInCgroup(cgroupFd: number, pid: number): void {
    const procs = join(readlinkSync(`/proc/self/fd/${cgroupFd}`), 'cgroup.procs');
    if (existsSync(procs)) appendFileSync(procs, `${pid}\n`);
  }

  private spawn(planBuf: Buffer, cgroupFd: number, flags: number, out: Record<string, unknown>): number {
    const plan = decodePlan(planBuf);
    const script = this.scriptFor(this.spawns++, plan);
    if (script.spawnFails) {
      Object.assign(out, { what: script.spawnFails.what, step: script.spawnFails.step ?? -1 });
      return -errnoNumber(script.spawnFails.errno);
    }
    // As tsrun_spawn decides: joins or a new user namespace need tsrun-init's second stage.
    const twoStage = (flags & 1) !== 0 || plan.joins.length > 0 || (plan.cloneFlags & 0x10000000n) !== 0n;
    const pid = script.standIn?.pid ?? this.nextPid++;
    const child = new FakeChild(pid, this.realFd(), plan, cgroupFd, twoStage, script, () => this.realFd());
    this.children.push(child);
    if (cgroupFd >= 0) this.bornInCgroup(cgroupFd, pid);
    let reported = pid;
    if (twoStage) {
      // The first stage reports the container process's pid, and exits.
      const stage1 = new FakeChild(this.nextPid++, -1, plan, cgroupFd, true, {}, () => this.realFd());
      stage1.end(0);
      this.children.push(stage1);
      reported = stage1.pid;
      child.push({ kind: REPORT.PID, step: -1, value: pid });
    }
    if (script.diesBefore === -1) child.end(9);
    else if (!plan.waitGo) child.advance();
    Object.assign(out, { pid: reported, sync_fd: child.syncFd, err: 0, step: -1, what: '', two_stage: twoStage ? 1 : 0, clone3: cgroupFd >= 0 ? 1 : 0, init_kind: 1 });
    return 0;
  }

  private bindings(): ShimFunctions {
    const recv = (fd: number, out: Record<string, unknown>, passed?: number[]): number | undefined => {
      const child = this.bySync(fd);
      return child ? child.nextReport(out, passed) : -E.EBADF;
    };
    const quickRecv = binding(recv, (fd) => (wake) => this.bySync(fd)!.onReadable(wake));
    // A slow child's reports arrive `slowReportsMs` after each read starts, even when already sent.
    const recvReport = Object.assign((...a: unknown[]) => quickRecv(...a), {
      info: undefined as unknown as KoffiFunction['info'],
      async: (fd: number, ...rest: unknown[]): void => {
        const delay = this.bySync(fd)?.script.slowReportsMs;
        if (delay === undefined) return void quickRecv.async(fd, ...rest);
        setTimeout(() => quickRecv.async(fd, ...rest), delay);
      },
    }) as KoffiFunction;
    const reap = (pid: number, status: number[]): number | undefined => {
      const child = this.byPid(pid);
      if (!child || child.reaped) return -E.ECHILD;
      if (child.state !== 'gone') return undefined;
      child.reaped = true;
      status[0] = child.status ?? 0;
      return pid;
    };
    const exited = (fd: number, _timeoutMs: number): number | undefined => {
      const pid = this.pidfds.get(fd);
      if (pid === undefined) return -E.EBADF;
      const child = this.byPid(pid);
      if (child) return child.state === 'gone' ? 1 : undefined;
      // A foreign process the test "signalled" (the test runner as a creator) counts as exited.
      if (this.foreignSignals.some((s) => s.pid === pid)) return 1;
      return existsSync(`/proc/${pid}`) ? undefined : 1;
    };
    const flock = (_fd: number, op: number): number | undefined => {
      if (this.flockBusy > 0) {
        this.flockBusy--;
        if (op & 4 /* LOCK_NB */) return -E.EWOULDBLOCK;
      }
      return 0;
    };
    return {
      spawn: (plan, _len, cgroupFd, _init, flags, out) => this.spawn(plan, cgroupFd, flags, out),
      recvReportWithin: (fd, _timeoutMs, out, passed) => {
        passed[0] = -1;
        if (this.bySync(fd)?.script.slowReportsMs !== undefined) return -E.ETIMEDOUT;
        return recv(fd, out, passed) ?? -E.ETIMEDOUT;
      },
      recvReport,
      sendByte: (fd) => this.bySync(fd)?.go() ?? -E.EBADF,
      wait: binding(reap, (pid) => (wake) => this.byPid(pid)!.onEnd(wake)),
      waitNohang: (pid, status) => reap(pid, status) ?? 0,
      close: (fd) => {
        this.fds.delete(fd);
        this.pidfds.delete(fd);
        try { closeSync(fd); return 0; } catch { return -E.EBADF; }
      },
      mkfifo: (path, mode) => {
        try {
          writeFileSync(path, '', { mode, flag: 'wx' });
        } catch (err) {
          return -errnoNumber((err as NodeJS.ErrnoException).code ?? 'EIO');
        }
        this.fifos.push(path);
        return 0;
      },
      renameExchange: playedRenameExchange,
      renameNoReplace: playedRenameNoReplace,
      // The library's stdio pipes are not part of what the fake plays (create and exec without them).
      pipe: () => -E.ENOSYS,
      memfd: () => -E.ENOSYS,
      // Nor its warm inits (spawn settings' warm is off wherever a fake shim is installed).
      spawnWarm: binding(() => -E.ENOSYS, () => (wake) => wake()),
      warmAhead: binding(() => -E.ENOSYS, () => (wake) => wake()),
      threadId: () => process.pid,
      sendPlan: () => -E.ENOSYS,
      mountsChanged: () => 1,
      pidfdOpen: (pid) => {
        const child = this.byPid(pid);
        if (child ? child.state === 'gone' : !existsSync(`/proc/${pid}`)) return -E.ESRCH;
        const fd = this.realFd();
        this.pidfds.set(fd, pid);
        return fd;
      },
      pidfdSendSignal: (fd, sig) => {
        const pid = this.pidfds.get(fd);
        if (pid === undefined) return -E.EBADF;
        const child = this.byPid(pid);
        if (!child) {
          this.foreignSignals.push({ pid, sig });
          return 0;
        }
        if (child.state === 'gone') return -E.ESRCH;
        child.signal(sig);
        return 0;
      },
      pollReadable: binding(exited, (fd, timeoutMs: number) => (wake) => {
        const timer = setTimeout(wake, timeoutMs);
        this.byPid(this.pidfds.get(fd)!)?.onEnd(() => { clearTimeout(timer); wake(); });
      }),
      flock: binding(flock, () => undefined) as ShimFunctions['flock'],
      sendFd: (socketPath, fd) => {
        if (!existsSync(socketPath)) return -E.ENOENT;
        this.consoleHandOvers.push({ socketPath, fd });
        return 0;
      },
      setWinsize: () => 0,
      ttyMakeRaw: () => 0,
      ttyRestore: () => 0,
      exitNow: () => { throw new Error('fake shim: exitNow'); },
      umountMount: (path, mountId) => { this.unmounts.push({ path, mountId }); return 0; },
      // The caller closes a program's fd with fs.closeSync: hand it a real one (not counted as ours).
      bpfProgLoad: () => openSync('/dev/null', 'r'),
      bpfProgAttach: () => 0,
      bpfProgQuery: () => 0,
      bpfProgFdById: () => -E.ENOENT,
    };
  }
}

/** renameat2 RENAME_EXCHANGE as the fake plays it: three renames (not atomic: no test races it). */
export function playedRenameExchange(a: string, b: string): number {
  try {
    lstatSync(a);
    lstatSync(b);
    renameSync(a, `${a}.exchanging`);
    renameSync(b, a);
    renameSync(`${a}.exchanging`, b);
    return 0;
  } catch (err) {
    return -errnoNumber((err as NodeJS.ErrnoException).code ?? 'EIO');
  }
}

/** renameat2 RENAME_NOREPLACE as the fake plays it: a check, then rename (not atomic: no test races it). */
export function playedRenameNoReplace(a: string, b: string): number {
  try {
    lstatSync(a);
    if (lstatSync(b, { throwIfNoEntry: false })) return -E.EEXIST;
    renameSync(a, b);
    return 0;
  } catch (err) {
    return -errnoNumber((err as NodeJS.ErrnoException).code ?? 'EIO');
  }
}

/** A fake shim installed for one test; call uninstall() in afterEach. */
export function installFakeShim(scriptFor?: (n: number, plan: WirePlan) => ChildScript, patch?: Partial<ShimFunctions>): FakeShim {
  return new FakeShim(scriptFor, patch).install();
}
