// The share of a container's plan that a warm init runs before its container is asked for
// (plan/phases.ts aheadRange, plan/ahead.ts): it must hold neither the container's id nor its fds,
// and the two parts must together be the plan, in its order.
import { describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../../src/abi/steps.js';
import { containerPlan } from '../../../src/plan/container.js';
import { splitAhead } from '../../../src/plan/ahead.js';
import { withStdio } from '../../../src/process/stdio.js';
import { planContext as ctx, planSpec } from '../../helpers/plan-context.js';

const ops = (steps: Step[]): string[] => steps.map((s) => s.op);
const libraryPlan = (mutate: Parameters<typeof planSpec>[0] = () => {}, extra: Partial<typeof ctx> = {}): Plan =>
  withStdio(containerPlan(planSpec(mutate), { ...ctx, startGate: 'caller', newKeyring: 'lib-1', ...extra }), { stdin: 20, stdout: 21, stderr: 22 });

describe('the steps a warm init runs ahead', () => {
  it('are the set-up from the namespaces to the locked-down root; the stdio, keyring, process and exec stay', () => {
    const plan = libraryPlan();
    const split = splitAhead(plan)!;
    expect(split).toBeDefined();
    const ahead = ops(split.ahead.steps);
    expect(ahead).toContain('loopbackUp');
    expect(ahead).toContain('pivotRoot');
    expect(ahead).toContain('mask');
    expect(ahead).not.toContain('dupFd');
    expect(ahead).not.toContain('newKeyring');
    expect(ahead.some((op) => ['bounding', 'capset', 'setresuid', 'checkExec', 'waitParent', 'exec'].includes(op))).toBe(false);
    expect(ops(split.rest.steps).slice(0, 4)).toEqual(['dupFd', 'dupFd', 'dupFd', 'newKeyring']);
    expect(ops(split.rest.steps).slice(-3)).toEqual(['checkExec', 'waitParent', 'exec']);
    // Together they are the plan, in its order.
    const { from } = plan.ahead!;
    expect([...split.rest.steps.slice(0, from), ...split.ahead.steps, ...split.rest.steps.slice(from)]).toEqual(plan.steps);
  });

  it('run without fds and without waiting for tsrun; the rest keeps the fds and the wait', () => {
    const { ahead, rest } = splitAhead(libraryPlan())!;
    expect(ahead.passFds).toBeUndefined();
    expect(ahead.waitForParent).toBe(false);
    expect(ahead.ahead).toBeUndefined();
    expect(rest.passFds).toEqual([20, 21, 22]);
    expect(rest.waitForParent).toBe(true);
    expect(rest.ahead).toBeUndefined();
  });

  it('do not hold the container\'s id (the keyring named by it is in the rest)', () => {
    const a = splitAhead(libraryPlan(() => {}, { newKeyring: 'lib-1' }))!;
    const b = splitAhead(libraryPlan(() => {}, { newKeyring: 'lib-2' }))!;
    expect(a.ahead).toEqual(b.ahead);
    expect(a.rest).not.toEqual(b.rest);
  });

  it('are none when a step must come before them or between them: creation hooks, the exec fifo of create', () => {
    expect(splitAhead(libraryPlan((s) => { s.hooks = { createRuntime: [{ path: '/bin/true' }] }; }))).toBeUndefined();
    expect(splitAhead(libraryPlan(() => {}, { startGate: { fifo: '/run/tsrun/c/exec.fifo' } }))).toBeUndefined();
  });
});
