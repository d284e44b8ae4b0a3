// A scriptable stand-in for libtsrun-shim.so, for unit tests of the code that spawns, waits, locks and
// cleans up (runc's mockCgroupManager, youki's TestHelperSyscall): no root, no process in a namespace.
//
// It plays the container side of tsrun_spawn from the plan it is given (decoded from the wire format):
// the child waits for the go-ahead, runs its steps, reports WAITING at a waitParent/waitRead step and
// EOF once it "execs". A test scripts what goes wrong — tsrun_spawn failing (clone3 ENOSYS), a step
// failing, the child dying (EOF) before a step, reports slow enough to go to the worker thread — and
// reads back what happened: the plans, the signals sent, the fds and children left.
//
// Children have pids above any pid_max, so the kernel answers ESRCH for them; process.kill is wrapped
// so that a SIGKILL of one reaches the fake (and is recorded) instead. Every fd the fake hands out
// (sync sockets, pidfds, device programs) is a real fd on /dev/null, so a leak shows in /proc/self/fd.
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { REPORT } from '../../src/native/ops.js';
import { substitute, type KoffiFunction, type ShimFunctions } from '../../src/native/shim.js';
import { decodePlan, type WirePlan } from './decode-plan.js';

const E = constants.errno;
const errnoNumber = (name: string): number => (E as Record<string, number>)[name] ?? E.EIO;

/** What one spawned child does; every field is optional (default: it sets up, waits, execs). */
export interface ChildScript {
  /** tsrun_spawn itself fails, e.g. { what: 'clone3', errno: 'ENOSYS' } (no process is made). */
  spawnFails?: { what: string; errno: string; step?: number };
  /** The child reports this step as failed (then exits). */
  failAt?: { step: number; errno?: string; syscall?: string };
  /** The child dies without a report (EOF on the sync socket) just before this step; -1: before the go-ahead. */
  diesBefore?: number;
  /** Every report arrives after the quick read gave up, `delayMs` later, on the "worker thread" (recvReport). */
  slowReportsMs?: number;
  /** A real process stands in for the child: its pid is the child's, so /proc shows it alive. */
  standIn?: ChildProcess;
  /** Once exec'd, the child exits by itself with this wait status (default: it runs until killed). */
  exitsWith?: number;
}

export interface FakeChild {
  pid: number;
  syncFd: number;
  plan: WirePlan;
  cgroupFd: number;
  twoStage: boolean;
  /** Where it is: waiting for the go-ahead, blocked at a wait step, exec'd, or gone (died, failed, killed). */
  state: 'wait-go' | 'waiting' | 'execd' | 'gone';
  /** The step it is at (its next step while waiting for the go-ahead). */
  at: number;
  /** Signals sent to it (process.kill or a pidfd). */
  signals: (string | number)[];
  /** Its wait status once it is gone; `reaped` once a wait collected it. */
  status?: number;
  reaped: boolean;
  script: ChildScript;
}

interface Report { kind: number; step: number; err?: number; value?: number; syscall?: string; fd?: number }

/** Above any pid_max (at most 2^22): kill(2) of these is ESRCH in the kernel. */
const FIRST_FAKE_PID = 2 ** 31 - 100;

export class FakeShim {
  readonly children: FakeChild[] = [];
  /** pidfd_send_signal calls at processes the fake does not own (the test process as a `creator`). */
  readonly foreignSignals: { pid: number; sig: number }[] = [];
  readonly fifos: string[] = [];
  readonly consoleHandOvers: { socketPath: string; fd: number }[] = [];
  readonly unmounts: { path: string; mountId: number }[] = [];
  /** pidfds whose poll ran out of time. */
  readonly pollTimedOut = new Set<number>();
  /** flock calls that find the lock busy before it is granted (set by a test). */
  flockBusy = 0;
  private nextPid = FIRST_FAKE_PID;
  /** tsrun_spawn calls so far, failed ones included: the `n` a script is asked about. */
  private spawns = 0;
  private readonly reports = new Map<number, Report[]>();
  private readonly pendingRecv = new Map<number, () => void>();
  private readonly waiters = new Map<number, (() => void)[]>();
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
    this.restoreShim = substitute({ ...this.functions(), ...this.patch });
    const realKill = process.kill.bind(process);
    this.realKill = realKill;
    process.kill = ((pid: number, sig?: string | number) => {
      const child = this.byPid(pid);
      if (!child) return realKill(pid, sig);
      if (sig === 0) {
        if (child.state === 'gone') throw Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' });
        return true;
      }
      this.signal(child, sig ?? 'SIGTERM');
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

  /** Children neither gone nor reaped. */
  living(): FakeChild[] {
    return this.children.filter((c) => c.state !== 'gone');
  }

  /** The child with this pid (a container process or a two-stage first stage). */
  byPid(pid: number): FakeChild | undefined {
    return this.children.find((c) => c.pid === pid);
  }

  private realFd(): number {
    const fd = openSync('/dev/null', 'r');
    this.fds.add(fd);
    return fd;
  }

  private signal(child: FakeChild, sig: string | number): void {
    child.signals.push(sig);
    // A real stand-in goes when the kernel says so (its 'exit' event, see adopt).
    if (child.script.standIn) return void child.script.standIn.kill(sig as NodeJS.Signals);
    const n = typeof sig === 'number' ? sig : (constants.signals as Record<string, number>)[sig] ?? 9;
    if (n === 9 || n === 15) this.gone(child, n);
  }

  /** The child ends: EOF to a pending read, its status to waiters. */
  private gone(child: FakeChild, status: number): void {
    if (child.state === 'gone') return;
    child.state = 'gone';
    child.status = status;
    this.pendingRecv.get(child.syncFd)?.();
    for (const w of this.waiters.get(child.pid) ?? []) w();
    this.waiters.delete(child.pid);
  }

  /**
   * A real process the test started plays a container's init that some earlier create made (for
   * exec, start, kill, delete): signals through process.kill or a pidfd reach it, and waits see it go.
   */
  adopt(standIn: ChildProcess): FakeChild {
    const child: FakeChild = {
      pid: standIn.pid!, syncFd: -1, plan: { cloneFlags: 0n, waitGo: false, trace: false, pdeathsig: false, preserveFds: 0, passFds: [], joins: [], steps: [] },
      cgroupFd: -1, twoStage: false, state: 'execd', at: 0, signals: [], reaped: false, script: { standIn },
    };
    this.children.push(child);
    this.followStandIn(child);
    return child;
  }

  /** CLONE_INTO_CGROUP: the child starts in the cgroup the fd names (listed there when it is a fake cgroupfs). */
  private bornInCgroup(cgroupFd: number, pid: number): void {
    const procs = join(readlinkSync(`/proc/self/fd/${cgroupFd}`), 'cgroup.procs');
    if (existsSync(procs)) appendFileSync(procs, `${pid}\n`);
  }

  private followStandIn(child: FakeChild): void {
    const standIn = child.script.standIn;
    if (!standIn) return;
    const ended = (code: number | null, sig: NodeJS.Signals | null): void => this.gone(child, sig ? (constants.signals as Record<string, number>)[sig] ?? 9 : (code ?? 0) << 8);
    if (standIn.exitCode !== null || standIn.signalCode !== null) ended(standIn.exitCode, standIn.signalCode);
    else standIn.on('exit', ended);
  }

  /** A test lets an exec'd child exit with `status` (a wait status: code << 8). */
  exit(pid: number, status = 0): void {
    const child = this.byPid(pid);
    if (child) this.gone(child, status);
  }

  private push(child: FakeChild, r: Report): void {
    const q = this.reports.get(child.syncFd) ?? [];
    q.push(r);
    this.reports.set(child.syncFd, q);
    this.pendingRecv.get(child.syncFd)?.();
  }

  /** Runs the child's steps from where it is until it waits, execs, fails or dies. */
  private advance(child: FakeChild): void {
    const steps = child.plan.steps;
    for (let i = child.at; i < steps.length; i++) {
      child.at = i;
      if (child.script.diesBefore === i) return this.gone(child, 9);
      if (child.script.failAt?.step === i) {
        const f = child.script.failAt;
        this.push(child, { kind: REPORT.STEP_FAILED, step: i, err: errnoNumber(f.errno ?? 'EPERM'), syscall: f.syscall ?? steps[i]!.op });
        return this.gone(child, 1 << 8);
      }
      const op = steps[i]!.op;
      if (op === 'waitParent' || op === 'waitRead') {
        this.push(child, { kind: REPORT.WAITING, step: i });
        child.state = 'waiting';
        child.at = i + 1;
        return;
      }
      if (op === 'exec') {
        if (child.plan.trace) this.push(child, { kind: REPORT.EXEC, step: i });
        child.state = 'execd';
        child.at = i + 1;
        this.pendingRecv.get(child.syncFd)?.(); // EOF: the sync socket closed on exec
        if (child.script.exitsWith !== undefined) this.gone(child, child.script.exitsWith);
        return;
      }
      // The pty master comes with its own report (an fd passed over the socket).
      if (op === 'console') this.push(child, { kind: REPORT.FD, step: i, fd: this.realFd() });
      if (child.plan.trace) this.push(child, { kind: REPORT.STEP_OK, step: i });
    }
  }

  private childBySync(fd: number): FakeChild | undefined {
    return this.children.find((c) => c.syncFd === fd);
  }

  /** The next report (1), EOF (0), or undefined when the child is blocked and has nothing to say. */
  private nextReport(fd: number, out: Record<string, unknown>, passed?: number[]): number | undefined {
    const q = this.reports.get(fd);
    const r = q?.shift();
    if (r) {
      if (passed) passed[0] = r.fd ?? -1;
      Object.assign(out, { kind: r.kind, step: r.step, err: r.err ?? 0, value: r.value ?? 0, start_ns: 0n, end_ns: 0n, syscall: r.syscall ?? '' });
      return 1;
    }
    const child = this.childBySync(fd);
    if (!child || child.state === 'gone' || child.state === 'execd') return 0;
    return undefined;
  }

  private functions(): ShimFunctions {
    const later = <A extends unknown[]>(sync: (...a: A) => number | undefined, waitFor: (...a: A) => ((wake: () => void) => void) | undefined): KoffiFunction => {
      const call = (...a: unknown[]): number => sync(...(a as A)) ?? -E.EAGAIN;
      const async = (...args: unknown[]): void => {
        const done = args.pop() as (err: unknown, rc: number) => void;
        const a = args as A;
        const attempt = (): void => {
          const rc = sync(...a);
          if (rc !== undefined) return void setImmediate(() => done(null, rc));
          const park = waitFor(...a);
          if (!park) return void setImmediate(() => done(null, -E.EAGAIN));
          park(attempt);
        };
        attempt();
      };
      return Object.assign(call, { async, info: undefined as unknown as KoffiFunction['info'] });
    };
    const recv = (fd: number, out: Record<string, unknown>, passed?: number[]): number | undefined => this.nextReport(fd, out, passed);
    const parkRecv = (fd: number) => (wake: () => void): void => {
      this.pendingRecv.set(fd, () => { this.pendingRecv.delete(fd); wake(); });
    };
    const quickRecv = later(recv, parkRecv);
    // A slow child's reports arrive `slowReportsMs` after each read starts, even when already sent.
    const recvReport = Object.assign((...a: unknown[]) => quickRecv(...a), {
      info: undefined as unknown as KoffiFunction['info'],
      async: (fd: number, ...rest: unknown[]): void => {
        const delay = this.childBySync(fd)?.script.slowReportsMs;
        if (delay === undefined) return void quickRecv.async(fd, ...rest);
        setTimeout(() => quickRecv.async(fd, ...rest), delay);
      },
    }) as KoffiFunction;
    const waitSync = (pid: number, status: number[]): number | undefined => {
      const child = this.byPid(pid);
      if (!child || child.reaped) return -E.ECHILD;
      if (child.state !== 'gone') return undefined;
      child.reaped = true;
      status[0] = child.status ?? 0;
      return pid;
    };
    const wait = later(waitSync, (pid) => (wake) => {
      const list = this.waiters.get(pid) ?? [];
      list.push(wake);
      this.waiters.set(pid, list);
    });
    const pollSync = (fd: number, _timeoutMs: number): number | undefined => {
      const pid = this.pidfds.get(fd);
      if (pid === undefined) return -E.EBADF;
      const child = this.byPid(pid);
      if (child) return child.state === 'gone' ? 1 : undefined;
      // A foreign process that the test was asked to signal (the test process as a creator) "exits".
      if (this.foreignSignals.some((s) => s.pid === pid)) return 1;
      return existsSync(`/proc/${pid}`) ? undefined : 1;
    };
    const pollReadable = later(pollSync, (fd, timeoutMs) => (wake) => {
      const pid = this.pidfds.get(fd)!;
      const timer = setTimeout(() => { this.pollTimedOut.add(fd); wake(); }, timeoutMs);
      const list = this.waiters.get(pid) ?? [];
      list.push(() => { clearTimeout(timer); wake(); });
      this.waiters.set(pid, list);
    });
    const flockSync = (_fd: number, op: number): number | undefined => {
      if (this.flockBusy > 0) {
        this.flockBusy--;
        if (op & 4 /* LOCK_NB */) return -E.EWOULDBLOCK;
      }
      return 0;
    };
    const flock = later(flockSync, () => undefined) as ShimFunctions['flock'];
    return {
      spawn: (planBuf, _len, cgroupFd, _init, flags, out) => {
        const plan = decodePlan(planBuf);
        const script = this.scriptFor(this.spawns++, plan);
        if (script.spawnFails) {
          Object.assign(out, { what: script.spawnFails.what, step: script.spawnFails.step ?? -1 });
          return -errnoNumber(script.spawnFails.errno);
        }
        const twoStage = (flags & 1) !== 0 || plan.joins.length > 0 || (plan.cloneFlags & 0x10000000n) !== 0n;
        const syncFd = this.realFd();
        const pid = script.standIn?.pid ?? this.nextPid++;
        const child: FakeChild = { pid, syncFd, plan, cgroupFd, twoStage, state: 'wait-go', at: 0, signals: [], reaped: false, script };
        this.children.push(child);
        this.followStandIn(child);
        if (cgroupFd >= 0) this.bornInCgroup(cgroupFd, pid);
        let firstPid = pid;
        if (twoStage) {
          // The first stage reports the container process's pid, and exits.
          const stage1: FakeChild = { pid: this.nextPid++, syncFd: -1, plan, cgroupFd, twoStage, state: 'gone', at: 0, signals: [], reaped: false, status: 0, script: {} };
          this.children.push(stage1);
          firstPid = stage1.pid;
          this.push(child, { kind: REPORT.PID, step: -1, value: pid });
        }
        if (script.diesBefore === -1) this.gone(child, 9);
        else if (!plan.waitGo) this.advance(child);
        Object.assign(out, { pid: firstPid, sync_fd: syncFd, err: 0, step: -1, what: '', two_stage: twoStage ? 1 : 0, clone3: cgroupFd >= 0 ? 1 : 0, init_kind: 1 });
        return 0;
      },
      recvReportWithin: (fd, _timeoutMs, out, passed) => {
        passed[0] = -1;
        if (this.childBySync(fd)?.script.slowReportsMs !== undefined) return -E.ETIMEDOUT;
        return recv(fd, out, passed) ?? -E.ETIMEDOUT;
      },
      recvReport,
      sendByte: (fd) => {
        const child = this.childBySync(fd);
        if (!child || child.state === 'gone' || child.state === 'execd') return -E.EPIPE;
        if (child.state === 'wait-go' || child.state === 'waiting') {
          child.state = 'wait-go';
          this.advance(child);
        }
        return 1;
      },
      wait,
      waitNohang: (pid, status) => {
        const rc = waitSync(pid, status);
        return rc === undefined ? 0 : rc;
      },
      close: (fd) => {
        if (fd < 0) return -E.EBADF;
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
        if (child) {
          if (child.state === 'gone') return -E.ESRCH;
          this.signal(child, sig);
          return 0;
        }
        // Never a real signal to a process the fake does not own (it may be the test runner).
        this.foreignSignals.push({ pid, sig });
        return 0;
      },
      pollReadable,
      flock,
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

/** A fake shim installed for one test; call uninstall() in afterEach. */
export function installFakeShim(scriptFor?: (n: number, plan: WirePlan) => ChildScript, patch?: Partial<ShimFunctions>): FakeShim {
  return new FakeShim(scriptFor, patch).install();
}
