import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { Spec } from '../../../src/oci/types.js';
import { containerPlan } from '../../../src/plan/container.js';
import { describeStep, stepSyscall } from '../../../src/abi/describe-step.js';
import { execPlan } from '../../../src/plan/exec.js';
import { planContext, planSpec } from '../../helpers/plan-context.js';
import { podmanDefaultProfile } from '../../helpers/podman-seccomp.js';

const ctx = planContext;
const spec = (mutate: (s: Spec) => void = () => {}): Spec => planSpec((s) => {
  s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
  mutate(s);
});
const ops = (s: Spec): string[] => containerPlan(s, ctx).steps.map((x) => x.op);

describe('plan: linux.seccomp', () => {
  it('with noNewPrivileges, installs the filter last: after no_new_privs and chdir, right before exec', () => {
    const steps = containerPlan(spec((s) => { s.process!.noNewPrivileges = true; }), ctx).steps;
    const at = steps.findIndex((s) => s.op === 'seccomp');
    expect(steps.map((s) => s.op).slice(at - 1)).toEqual(['chdir', 'seccomp', 'exec']);
    expect(steps.findIndex((s) => s.op === 'prctl' && s.name === 'PR_SET_NO_NEW_PRIVS')).toBeLessThan(at);
    expect(steps.findIndex((s) => s.op === 'setresuid')).toBeLessThan(at);
    expect(steps[at]!.field).toBe('linux.seccomp');
  });

  it('without noNewPrivileges, installs it before the privilege drop, while CAP_SYS_ADMIN is still there', () => {
    const o = ops(spec((s) => { s.process!.noNewPrivileges = false; }));
    const at = o.indexOf('seccomp');
    expect(at).toBeGreaterThan(0);
    expect(o.slice(at, at + 2)).toEqual(['seccomp', 'bounding']);
    expect(o.indexOf('capset')).toBeGreaterThan(at);
    expect(o.indexOf('setresuid', o.indexOf('pivotRoot'))).toBeGreaterThan(at);
  });

  it('has no step without linux.seccomp', () => {
    expect(ops(spec((s) => { delete s.linux!.seccomp; }))).not.toContain('seccomp');
  });

  it('describes the step for explain and --trace', () => {
    const step = containerPlan(spec((s) => { s.process!.noNewPrivileges = true; s.linux!.seccomp = podmanDefaultProfile(); }), ctx).steps.find((s) => s.op === 'seccomp')!;
    expect(describeStep(step)).toMatch(/^install seccomp filter: \d{3} syscalls, default SCMP_ACT_ERRNO\(ENOSYS\), \d{3,4} instructions$/);
    expect(stepSyscall(step)).toBe('seccomp');
    expect(step.why).toMatch(/SCMP_ARCH_X86_64 SCMP_ARCH_X86 SCMP_ARCH_X32/);
  });

  it('refuses an unsupported field at plan time, naming it', () => {
    expect(() => containerPlan(spec((s) => { s.linux!.seccomp!.syscalls![0]!.action = 'SCMP_ACT_NOTIFY'; }), ctx)).toThrow(ConfigError);
    expect(() => containerPlan(spec((s) => { s.linux!.seccomp!.syscalls![0]!.action = 'SCMP_ACT_NOTIFY'; }), ctx)).toThrow('linux.seccomp.syscalls[0].action');
  });

  it('filters processes started with exec too, as runc does', () => {
    const s = spec((x) => { x.process!.noNewPrivileges = true; });
    const plan = execPlan(s, s.process!, { initPid: 42, setgroupsAllowed: true, detach: false });
    expect(plan.steps.map((x) => x.op).slice(-2)).toEqual(['seccomp', 'exec']);
  });
});
