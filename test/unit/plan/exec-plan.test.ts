// The plan of `tsrun exec`: join the init's namespaces; a container without a mount namespace of its
// own also has its root entered (a chroot, which joining namespaces does not give), before the
// privilege drop and before process.cwd.
import { describe, expect, it } from 'vitest';
import { TsrunError } from '../../../src/errors.js';
import { execProcess } from '../../../src/container/exec.js';
import { sharesCallerMountNamespace } from '../../../src/namespaces/join.js';
import { execPlan, type ExecPlanContext } from '../../../src/plan/exec.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import type { Spec } from '../../../src/oci/types.js';
import { describeStep } from '../../../src/abi/describe-step.js';
import type { Step } from '../../../src/abi/steps.js';

function spec(mutate: (s: Spec) => void = () => {}): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  mutate(s);
  return s;
}
const withoutMountNamespace = (s: Spec): void => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); };
const ctx: ExecPlanContext = { initPid: 4242, setgroupsAllowed: true, detach: false };
const at = (steps: Step[], op: Step['op']): number => steps.findIndex((s) => s.op === op);

describe('execPlan', () => {
  it('with a mount namespace: joins it (setns sets the root) and enters no root itself', () => {
    const config = spec();
    const plan = execPlan(config, execProcess(config, { root: '/run/tsrun', id: 'c', args: ['sh'] }), ctx);
    expect(plan.namespaces.map((n) => n.path)).toContain('/proc/4242/ns/mnt');
    expect(plan.steps.some((s) => s.op === 'chroot')).toBe(false);
    expect(plan.steps.filter((s) => s.op === 'chdir').map((s) => (s as { path: string }).path)).toEqual(['/']);
  });

  it('a mount namespace joined by path counts as the container\'s own', () => {
    const config = spec((s) => {
      withoutMountNamespace(s);
      s.linux!.namespaces!.push({ type: 'mount', path: '/proc/7/ns/mnt' });
    });
    expect(sharesCallerMountNamespace(config)).toBe(false);
    const plan = execPlan(config, execProcess(config, { root: '/run/tsrun', id: 'c', args: ['sh'] }), ctx);
    expect(plan.steps.some((s) => s.op === 'chroot')).toBe(false);
  });

  it('without a mount namespace: enters the init\'s root first, then the user switch, then process.cwd inside it', () => {
    const config = spec(withoutMountNamespace);
    expect(sharesCallerMountNamespace(config)).toBe(true);
    const proc = execProcess(config, { root: '/run/tsrun', id: 'c', args: ['sh'], cwd: '/tmp', user: { uid: 1000, gid: 1000 }, tty: true });
    const plan = execPlan(config, proc, { ...ctx, initRootFd: 9, consoleSize: { rows: 24, cols: 80 } });
    expect(plan.namespaces.map((n) => n.type)).not.toContain('mount');
    // tsrun's fd of the root is the one fd the plan passes on (through the exec of tsrun-init).
    expect(plan.passFds).toEqual([9]);
    expect(plan.steps.slice(0, 3).map(describeStep)).toEqual(['chdir /proc/self/fd/9', 'chroot .', 'chdir /']);
    expect(plan.steps.slice(0, 2).every((s) => s.field === 'root.path')).toBe(true);
    const chroot = at(plan.steps, 'chroot');
    // The pty comes from the container's /dev/ptmx, and only a privileged process may chroot.
    expect(chroot).toBeLessThan(at(plan.steps, 'console'));
    expect(chroot).toBeLessThan(at(plan.steps, 'setresgid'));
    expect(chroot).toBeLessThan(at(plan.steps, 'setresuid'));
    expect(chroot).toBeLessThan(at(plan.steps, 'capset'));
    const cwd = plan.steps.findLastIndex((s) => s.op === 'chdir');
    expect(plan.steps[cwd]).toMatchObject({ path: '/tmp', field: 'process.cwd' });
    expect(cwd).toBeGreaterThan(at(plan.steps, 'setresuid'));
    expect(plan.steps.at(-1)?.op).toBe('exec');
  });

  it('no namespaces at all: nothing to join, the root is still entered', () => {
    const config = spec((s) => { s.linux!.namespaces = []; delete s.hostname; });
    const plan = execPlan(config, execProcess(config, { root: '/run/tsrun', id: 'c', args: ['sh'] }), { ...ctx, initRootFd: 9 });
    expect(plan.namespaces).toEqual([]);
    expect(plan.steps[1]?.op).toBe('chroot');
  });

  it('without a mount namespace the init\'s root is required', () => {
    const config = spec(withoutMountNamespace);
    expect(() => execPlan(config, execProcess(config, { root: '/run/tsrun', id: 'c', args: ['sh'] }), ctx)).toThrow(TsrunError);
  });
});
