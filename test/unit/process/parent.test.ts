// startProcess (the parent side of the spawn) against the fake shim: the go-ahead, two stages, the
// hook pause, and every way the child can fail — a step's report, EOF without one, a slow report —
// each ending with the child killed once, reaped once, and the sync socket closed.
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../../src/abi/steps.js';
import { startProcess, type StartOptions } from '../../../src/process/parent.js';
import { noTrace, type TraceEvent } from '../../../src/process/trace.js';
import { TsrunError } from '../../../src/errors.js';
import { installFakeShim, type ChildScript, type FakeShim } from '../../helpers/fake-shim.js';

let fake: FakeShim | undefined;
afterEach(() => { fake?.uninstall(); fake = undefined; });

function shim(script: ChildScript | ((n: number) => ChildScript) = {}): FakeShim {
  fake = installFakeShim(typeof script === 'function' ? script : () => script);
  return fake;
}

const step = (op: 'chdir' | 'waitParent' | 'exec', more: Partial<Step> = {}): Step =>
  (op === 'exec' ? { op, args: ['/bin/true'], env: [], why: 'w', ...more } : op === 'chdir' ? { op, path: '/', why: 'w', ...more } : { op, why: 'w', ...more }) as Step;

function plan(steps: Step[], more: Partial<Plan> = {}): Plan {
  return { namespaces: [{ type: 'pid', flag: 0x20000000, action: 'create' }], cloneFlags: 0x20000000, waitForParent: true, dieWithParent: true, preserveFds: 0, steps, ...more };
}

/** A container's shape: set up, pause for hooks, set up, wait for start, exec. */
const created = plan([step('chdir'), step('waitParent', { field: 'hooks' }), step('chdir'), step('waitParent'), step('exec')]);

const opts = (more: Partial<StartOptions> = {}): StartOptions => ({ trace: noTrace, traceSteps: false, ...more });

function ended(f: FakeShim): void {
  const child = f.children.find((c) => c.syncFd >= 0)!;
  expect(child.state).toBe('gone');
  expect(child.reaped).toBe(true);
  expect(child.signals.filter((s) => s === 'SIGKILL').length).toBeLessThanOrEqual(1);
  expect(f.openFds()).toEqual([]);
}

describe('startProcess', () => {
  it('gives the go-ahead after beforeGo, and returns once the child waits', async () => {
    const f = shim();
    const seen: string[] = [];
    const proc = await startProcess(created, opts({ cgroupFd: -1, beforeGo: (pid) => { seen.push(`beforeGo ${pid} ${f.byPid(pid)!.state}`); }, atWaiting: () => seen.push('atWaiting') }));
    expect(seen).toEqual([`beforeGo ${proc.pid} wait-go`, 'atWaiting']);
    expect(f.byPid(proc.pid)!.at).toBe(2); // stopped at the hook pause
    await proc.continue();
    expect(f.byPid(proc.pid)!.at).toBe(4); // at the start gate
    proc.go();
    await proc.untilExec();
    expect(f.byPid(proc.pid)!.state).toBe('execd');
    expect(f.openFds()).toEqual([]); // the sync socket is closed after exec
  });

  it('early: the child runs its plan without waiting for a go-ahead', async () => {
    const f = shim();
    const proc = await startProcess(plan([step('chdir'), step('waitParent'), step('exec')]), opts({ early: true }));
    expect(f.byPid(proc.pid)!.plan.waitGo).toBe(false);
    proc.release();
  });

  it('two stages (joined namespaces): the first stage reports the pid and is reaped', async () => {
    const f = shim();
    const joined = plan([step('chdir'), step('exec')], { namespaces: [{ type: 'mount', flag: 0x20000, action: 'join', path: '/proc/1/ns/mnt' }], cloneFlags: 0 });
    const proc = await startProcess(joined, opts());
    const stage1 = f.children.find((c) => c.syncFd < 0)!;
    expect(stage1.reaped).toBe(true);
    expect(proc.pid).not.toBe(stage1.pid);
    expect(f.byPid(proc.pid)!.plan.joins).toEqual([{ flag: 0x20000, path: '/proc/1/ns/mnt' }]);
  });

  it('a failing step: the error names it; the child is killed and reaped, the socket closed', async () => {
    const f = shim({ failAt: { step: 2, errno: 'ENOENT', syscall: 'chdir' } });
    const proc = await startProcess(created, opts());
    const err = await proc.continue().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TsrunError);
    expect((err as TsrunError).message).toMatch(/^chdir \/ \(step 2\): ENOENT .* from chdir$/);
    ended(f);
    // The caller's undo may destroy it again: no second signal, no second wait.
    await proc.destroy();
    ended(f);
  });

  it('a step failing before the first wait rejects startProcess itself, with nothing left', async () => {
    const f = shim({ failAt: { step: 0, errno: 'EPERM' } });
    await expect(startProcess(created, opts())).rejects.toThrow(/step 0/);
    ended(f);
  });

  it('a slow report goes to the worker-thread read and still fails the start', async () => {
    const f = shim({ slowReportsMs: 70, failAt: { step: 0, errno: 'EPERM' } });
    const events: TraceEvent[] = [];
    await expect(startProcess(created, opts({ trace: { event: (e) => events.push(e) } }))).rejects.toThrow(/step 0/);
    expect(events.at(-1)).toMatchObject({ who: 'child', step: 0, result: 'EPERM' });
    ended(f);
  });

  for (const diesBefore of [-1, 0, 2]) {
    it(`a child that dies without a report (before step ${diesBefore}) is an error, not a created container`, async () => {
      const f = shim({ diesBefore });
      const run = async (): Promise<void> => { const p = await startProcess(created, opts()); await p.continue(); };
      await expect(run()).rejects.toThrow('the container process ended during its set-up without reporting a failure (killed by signal 9)');
      ended(f);
    });
  }

  it('EOF is the exec for a plan without a wait step (exec, hooks)', async () => {
    const f = shim();
    const proc = await startProcess(plan([step('chdir'), step('exec')]), opts());
    expect(f.byPid(proc.pid)!.state).toBe('execd');
    await proc.untilExec();
  });

  it('untilExec: a failing exec kills and reaps the child once', async () => {
    const f = shim({ failAt: { step: 4, errno: 'ENOENT', syscall: 'execve' } });
    const proc = await startProcess(created, opts());
    await proc.continue();
    proc.go();
    await expect(proc.untilExec()).rejects.toThrow(/step 4/);
    await proc.destroy();
    ended(f);
  });

  it('id maps it cannot write: the error names the field, the child goes', async () => {
    const f = shim();
    const userns = plan([step('chdir'), step('exec')], {
      namespaces: [{ type: 'user', flag: 0x10000000, action: 'create' }], cloneFlags: 0x10000000,
      idMaps: { uid: [{ containerID: 0, hostID: 1000, size: 1 }], gid: [{ containerID: 0, hostID: 1000, size: 1 }], setgroups: 'deny', writer: 'own-id' },
    });
    // The fake's pids have no /proc entry: writing uid_map fails as it would for a vanished child.
    await expect(startProcess(userns, opts())).rejects.toThrow(/uid_map \(linux\.uidMappings\): ENOENT/);
    ended(f);
    expect(f.children.filter((c) => c.syncFd < 0).every((c) => c.reaped)).toBe(true);
  });

  it('the pty master of a failed start is closed', async () => {
    const f = shim({ failAt: { step: 2, errno: 'EIO' } });
    const withConsole = plan([{ op: 'console', rows: 24, cols: 80, uid: 0, gid: 0, why: 'w' }, step('chdir'), step('chdir'), step('waitParent'), step('exec')]);
    await expect(startProcess(withConsole, opts())).rejects.toThrow(/step 2/);
    ended(f);
  });
});
