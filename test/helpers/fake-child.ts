// One child of the fake shim (fake-shim.ts): the container side of tsrun_spawn played from its plan.
// It waits for the go-ahead (when the plan says so), runs its steps, reports WAITING at a waitParent
// or waitRead step and stops there until the next byte, and closes its end of the sync socket (EOF)
// when it "execs" — or fails a step, or dies, as its script says.
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { REPORT } from '../../src/native/ops.js';
import type { WirePlan } from './decode-plan.js';

/** What one spawned child does; every field is optional (default: it sets up, waits, execs). */
export interface ChildScript {
  /** tsrun_spawn itself fails, e.g. { what: 'clone3', errno: 'ENOSYS' } (no process is made). */
  spawnFails?: { what: string; errno: string; step?: number };
  /** The child reports this step as failed (then exits). */
  failAt?: { step: number; errno?: string; syscall?: string };
  /** The child dies without a report (EOF on the sync socket) just before this step; -1: before the go-ahead. */
  diesBefore?: number;
  /** Every report arrives after the quick read gave up, `slowReportsMs` later, on the "worker thread" (recvReport). */
  slowReportsMs?: number;
  /** A real process stands in for the child: its pid is the child's, so /proc shows it alive. */
  standIn?: ChildProcess;
  /** Once exec'd, the child exits by itself with this wait status (default: it runs until killed). */
  exitsWith?: number;
}

export interface Report { kind: number; step: number; err?: number; value?: number; syscall?: string; fd?: number }

export const errnoNumber = (name: string): number => (constants.errno as Record<string, number>)[name] ?? constants.errno.EIO;
const signalNumber = (sig: string | number): number => (typeof sig === 'number' ? sig : (constants.signals as Record<string, number>)[sig] ?? 9);

export class FakeChild {
  /** Waiting for the go-ahead, blocked at a wait step, exec'd, or gone (died, failed, killed). */
  state: 'wait-go' | 'waiting' | 'execd' | 'gone' = 'wait-go';
  /** Its next step. */
  at = 0;
  /** Signals sent to it (process.kill or a pidfd). */
  readonly signals: (string | number)[] = [];
  /** Its wait status once gone; `reaped` once a wait collected it. */
  status?: number;
  reaped = false;
  private readonly reports: Report[] = [];
  private readable: (() => void) | undefined;
  private ended: (() => void)[] = [];

  constructor(
    readonly pid: number,
    /** tsrun's end of its sync socket (-1: none, a first stage or an adopted init). */
    readonly syncFd: number,
    readonly plan: WirePlan,
    readonly cgroupFd: number,
    readonly twoStage: boolean,
    readonly script: ChildScript,
    /** A new fd for a report that passes one (the pty master). */
    private readonly newFd: () => number,
  ) {
    const standIn = script.standIn;
    if (!standIn) return;
    // A real stand-in goes when the kernel says so.
    const exited = (code: number | null, sig: NodeJS.Signals | null): void => this.end(sig ? signalNumber(sig) : (code ?? 0) << 8);
    if (standIn.exitCode !== null || standIn.signalCode !== null) exited(standIn.exitCode, standIn.signalCode);
    else standIn.on('exit', exited);
  }

  push(r: Report): void {
    this.reports.push(r);
    this.wakeReader();
  }

  private wakeReader(): void {
    const wake = this.readable;
    this.readable = undefined;
    wake?.();
  }

  /** The next report (1, filling `out`), EOF (0), or undefined while it runs and has nothing to say. */
  nextReport(out: Record<string, unknown>, passed?: number[]): number | undefined {
    const r = this.reports.shift();
    if (r) {
      if (passed) passed[0] = r.fd ?? -1;
      Object.assign(out, { kind: r.kind, step: r.step, err: r.err ?? 0, value: r.value ?? 0, start_ns: 0n, end_ns: 0n, syscall: r.syscall ?? '' });
      return 1;
    }
    return this.state === 'gone' || this.state === 'execd' ? 0 : undefined;
  }

  /** Calls `wake` once when it next says something (a report or EOF). */
  onReadable(wake: () => void): void {
    this.readable = wake;
  }

  /** Calls `wake` once when it is gone (at once if it is). */
  onEnd(wake: () => void): void {
    if (this.state === 'gone') wake();
    else this.ended.push(wake);
  }

  /** A byte on the sync socket: the go-ahead, or the end of a wait step. */
  go(): number {
    if (this.state === 'gone' || this.state === 'execd') return -constants.errno.EPIPE;
    if (this.state === 'wait-go' || this.state === 'waiting') this.advance();
    return 1;
  }

  signal(sig: string | number): void {
    this.signals.push(sig);
    if (this.script.standIn) return void this.script.standIn.kill(sig as NodeJS.Signals);
    const n = signalNumber(sig);
    if (n === 9 || n === 15) this.end(n);
  }

  /** It ends with this wait status: EOF to a pending read, its status to waiters. */
  end(status: number): void {
    if (this.state === 'gone') return;
    this.state = 'gone';
    this.status = status;
    this.wakeReader();
    for (const w of this.ended.splice(0)) w();
  }

  /** Runs its steps from where it is until it waits, execs, fails or dies. */
  advance(): void {
    const steps = this.plan.steps;
    for (let i = this.at; i < steps.length; i++) {
      this.at = i;
      if (this.script.diesBefore === i) return this.end(9);
      const fail = this.script.failAt;
      if (fail?.step === i) {
        this.push({ kind: REPORT.STEP_FAILED, step: i, err: errnoNumber(fail.errno ?? 'EPERM'), syscall: fail.syscall ?? steps[i]!.op });
        return this.end(1 << 8);
      }
      const op = steps[i]!.op;
      if (op === 'waitParent' || op === 'waitRead') {
        this.push({ kind: REPORT.WAITING, step: i });
        this.state = 'waiting';
        this.at = i + 1;
        return;
      }
      if (op === 'exec') {
        if (this.plan.trace) this.push({ kind: REPORT.EXEC, step: i });
        this.state = 'execd';
        this.at = i + 1;
        this.wakeReader(); // EOF: the sync socket closes on exec
        if (this.script.exitsWith !== undefined) this.end(this.script.exitsWith);
        return;
      }
      // The pty master comes with a report of its own (an fd passed over the socket).
      if (op === 'console') this.push({ kind: REPORT.FD, step: i, fd: this.newFd() });
      if (this.plan.trace) this.push({ kind: REPORT.STEP_OK, step: i });
    }
  }
}
