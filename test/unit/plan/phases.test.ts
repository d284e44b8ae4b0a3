// The plan's named phases: the start gate, the hook pause and an image's overlay sit in phases of
// their own, so they land in the same place whatever the rest of the plan holds (no search of a
// finished step list, no index that could be -1).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { Step } from '../../../src/abi/steps.js';
import { containerPlan } from '../../../src/plan/container.js';
import { hookPlan } from '../../../src/plan/hook.js';
import { PHASES, inPhaseOrder } from '../../../src/plan/phases.js';
import type { Spec } from '../../../src/oci/types.js';
import { planContext as ctx, planSpec } from '../../helpers/plan-context.js';

const withCreateHook = (s: Spec): void => { s.hooks = { createRuntime: [{ path: '/bin/true' }] }; };
const withoutMountNamespace = (s: Spec): void => {
  s.root!.readonly = false;
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
};
const ops = (steps: Step[]): string[] => steps.map((s) => s.op);
const overlay = { chdir: '/store/layers', data: 'lowerdir=l/a,upperdir=/s/upper,workdir=/s/work' };

describe('phases', () => {
  it('are named once each and laid out in their order', () => {
    expect(new Set(PHASES).size).toBe(PHASES.length);
    const step = (path: string): Step => ({ op: 'chdir', path, why: '' });
    expect(inPhaseOrder({ exec: [step('c')], 'open-start-gate': [step('a')], process: [step('b')] }).map((s) => s.op === 'chdir' && s.path)).toEqual(['a', 'b', 'c']);
  });
});

describe('containerPlan: the start gate', () => {
  it('run: the init checks its program, then waits on the sync socket right before exec; no fifo', () => {
    const steps = containerPlan(planSpec(), { ...ctx, startGate: 'caller' }).steps;
    expect(ops(steps).slice(-3)).toEqual(['checkExec', 'waitParent', 'exec']);
    expect(ops(steps)).not.toContain('openKeep');
  });

  it('create: the fifo is opened first of all, and read right before exec', () => {
    const steps = containerPlan(planSpec(), { ...ctx, startGate: { fifo: '/run/tsrun/c/exec.fifo' }, newKeyring: 'c' }).steps;
    expect(steps[0]).toMatchObject({ op: 'openKeep', path: '/run/tsrun/c/exec.fifo', slot: 0 });
    expect(ops(steps).slice(-3)).toEqual(['checkExec', 'waitRead', 'exec']);
    expect(steps.at(-3)).toMatchObject({ op: 'checkExec', args: planSpec().process!.args });
  });

  it('without a gate the init execs as soon as it is set up', () => {
    expect(ops(containerPlan(planSpec(), ctx).steps).filter((op) => op === 'checkExec' || op === 'waitParent' || op === 'waitRead')).toEqual([]);
  });
});

describe('containerPlan: the pause for creation hooks', () => {
  const cases: [string, (s: Spec) => void, boolean][] = [
    ['pivot_root', () => {}, false],
    ['--no-pivot', () => {}, true],
    ['no mount namespace (chroot)', withoutMountNamespace, false],
  ];
  for (const [name, mutate, noPivot] of cases) {
    it(`sits right before the init enters its rootfs (${name})`, () => {
      const steps = containerPlan(planSpec((s) => { withCreateHook(s); mutate(s); }), { ...ctx, startGate: 'caller', noPivot }).steps;
      const pauses = steps.flatMap((s, i) => (s.op === 'waitParent' && s.field === 'hooks' ? [i] : []));
      expect(pauses).toHaveLength(1);
      // The pivot phase always starts with a chdir into the rootfs.
      expect(steps[pauses[0]! + 1]).toMatchObject({ op: 'chdir', path: ctx.rootfs });
    });
  }

  it('is not there without prestart, createRuntime or createContainer hooks', () => {
    const steps = containerPlan(planSpec((s) => { s.hooks = { poststart: [{ path: '/bin/true' }], startContainer: [{ path: '/x' }] }; }), { ...ctx, startGate: 'caller' }).steps;
    expect(steps.filter((s) => s.op === 'waitParent' && s.field === 'hooks')).toEqual([]);
  });
});

describe('containerPlan: an image\'s overlay', () => {
  it('is mounted on the rootfs right after mounts stop propagating, before the rootfs is bound and opened', () => {
    const steps = containerPlan(planSpec(), { ...ctx, imageOverlay: overlay }).steps;
    const slave = steps.findIndex((s) => s.op === 'mount' && s.target === '/' && s.source === '');
    expect(steps.slice(slave + 1, slave + 5)).toMatchObject([
      { op: 'chdir', path: overlay.chdir },
      { op: 'mount', source: 'overlay', fstype: 'overlay', target: ctx.rootfs, data: overlay.data, field: 'image' },
      { op: 'chdir', path: '/' },
      { op: 'mount', source: ctx.rootfs, target: ctx.rootfs },
    ]);
  });

  it('is refused without a mount namespace: in the caller\'s mount table it would outlive the container', () => {
    expect(() => containerPlan(planSpec(withoutMountNamespace), { ...ctx, imageOverlay: overlay })).toThrow(ConfigError);
    expect(() => containerPlan(planSpec(withoutMountNamespace), { ...ctx, imageOverlay: overlay })).toThrow(/image's rootfs needs a mount namespace/);
  });
});

describe('hookPlan', () => {
  const config = planSpec((s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    s.process!.user = { uid: 7, gid: 8 };
  });
  const hookCtx = { initPid: 321, stateFd: 9, stateFile: '/run/tsrun/c/hook-state.json', setgroupsAllowed: false };

  it('createContainer: joins the init\'s namespaces (user first), reads the state on stdin, execs the host path', () => {
    const plan = hookPlan('createContainer', 0, { path: '/usr/bin/hook', args: ['hook', '-x'] }, config, hookCtx);
    expect(plan.namespaces[0]).toMatchObject({ type: 'user', action: 'join', path: '/proc/321/ns/user' });
    expect(plan.namespaces.every((n) => n.action === 'join')).toBe(true);
    expect(plan.cloneFlags).toBe(0);
    expect(plan.passFds).toEqual([9]);
    expect(plan.steps).toMatchObject([
      { op: 'stdinFrom', fd: 9, path: hookCtx.stateFile, field: 'hooks.createContainer[0]' },
      { op: 'exec', path: '/usr/bin/hook', args: ['hook', '-x'], env: [], field: 'hooks.createContainer[0]' },
    ]);
  });

  it('startContainer: the container process\'s privilege drop comes before the hook\'s exec', () => {
    const steps = hookPlan('startContainer', 1, { path: '/bin/hook' }, config, hookCtx).steps;
    expect(steps[0]).toMatchObject({ op: 'stdinFrom' });
    expect(steps.find((s) => s.op === 'setresuid')).toMatchObject({ uid: 7 });
    expect(ops(steps)).not.toContain('setgroups');
    expect(steps.at(-1)).toMatchObject({ op: 'exec', path: '/bin/hook', args: ['/bin/hook'], field: 'hooks.startContainer[1]' });
  });
});
