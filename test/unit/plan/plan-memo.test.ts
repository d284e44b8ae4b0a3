// plan/plan-memo.ts: the library's plans kept per process. A kept plan is handed out only when the
// spec, the options and every answer the host view gave are the same now, with the new id as its
// keyring's name: then it is the plan planBundle would make.
import { describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../../src/abi/steps.js';
import type { Bundle } from '../../../src/oci/bundle.js';
import type { Spec } from '../../../src/oci/types.js';
import { planBundle, type BundlePlanOptions } from '../../../src/plan/bundle-plan.js';
import { PlanMemo } from '../../../src/plan/plan-memo.js';
import type { HostView } from '../../../src/rootfs/plan.js';
import { planSpec } from '../../helpers/plan-context.js';

/** A host whose bind sources' kinds the test sets; it counts the questions asked. */
function host(kinds: Record<string, 'dir' | 'file' | undefined> = {}): HostView & { asked: number } {
  const h = {
    asked: 0,
    kind(p: string) { h.asked++; return p in kinds ? kinds[p] : 'dir'; },
    mountOf(p: string) { h.asked++; return { mountPoint: p.startsWith('/bundles') ? '/bundles' : '/', shared: false }; },
  };
  return h;
}

const withBind = (s: Spec): void => {
  s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['bind'] });
};
const bundle = (mutate: Parameters<typeof planSpec>[0] = withBind): Bundle => ({ dir: '/bundles/b', configPath: '/bundles/b/config.json', rootfs: '/bundles/b/rootfs', spec: planSpec(mutate) });
const options = (id: string, h: HostView, more: Partial<BundlePlanOptions> = {}): BundlePlanOptions & { host: HostView } =>
  ({ foreground: true, startGate: 'caller', cgroup2Mount: '/sys/fs/cgroup/unified', keyring: id, host: h, ...more });
const keyring = (p: Plan): string | undefined => p.steps.find((s): s is Extract<Step, { op: 'newKeyring' }> => s.op === 'newKeyring')?.name;

describe('PlanMemo', () => {
  it('the same container again: the kept plan (its steps reused), with the new id as the keyring, equal to a fresh plan', () => {
    const memo = new PlanMemo();
    const h = host();
    const first = memo.plan(bundle(), options('c-1', h));
    const second = memo.plan(bundle(), options('c-2', h));
    expect(keyring(first)).toBe('c-1');
    expect(keyring(second)).toBe('c-2');
    expect(second).toEqual(planBundle(bundle(), options('c-2', host())));
    // Reused, not planned again: the same step objects but the keyring's.
    const shared = second.steps.filter((s, i) => s === first.steps[i]).length;
    expect(shared).toBe(second.steps.length - 1);
    // Kept frozen: a change to a handed-out step throws instead of reaching the next container.
    expect(() => { (second.steps.find((s) => s.op !== 'newKeyring') as { why?: string }).why = 'x'; }).toThrow(TypeError);
  });

  it('a host answer that changed (a bind source now a file) plans afresh', () => {
    const memo = new PlanMemo();
    const first = memo.plan(bundle(), options('c-1', host()));
    const fileNow = host({ '/srv/data': 'file' });
    const second = memo.plan(bundle(), options('c-2', fileNow));
    expect(second).toEqual(planBundle(bundle(), options('c-2', host({ '/srv/data': 'file' }))));
    expect(second.steps.filter((s, i) => s === first.steps[i])).toHaveLength(0);
  });

  it('another spec, or other options, is another plan', () => {
    const memo = new PlanMemo();
    const h = host();
    const first = memo.plan(bundle(), options('c-1', h));
    const other = memo.plan(bundle((s) => { withBind(s); s.hostname = 'other'; }), options('c-2', h));
    expect(other).toEqual(planBundle(bundle((s) => { withBind(s); s.hostname = 'other'; }), options('c-2', host())));
    const noPivot = memo.plan(bundle(), options('c-3', h, { noPivot: true }));
    expect(noPivot).toEqual(planBundle(bundle(), options('c-3', host(), { noPivot: true })));
    expect(noPivot.steps.filter((s, i) => s === first.steps[i])).toHaveLength(0);
  });

  it('a plan that holds its id elsewhere than the keyring (a hostname equal to it) is not kept', () => {
    const memo = new PlanMemo();
    const h = host();
    const same = (s: Spec): void => { withBind(s); s.hostname = 'c-1'; };
    const first = memo.plan(bundle(same), options('c-1', h));
    const second = memo.plan(bundle(same), options('c-2', h));
    expect(second.steps.filter((s, i) => s === first.steps[i])).toHaveLength(0);
    expect(second).toEqual(planBundle(bundle(same), options('c-2', host())));
  });

  it('not kept: create\'s fifo start gate, a terminal, no cgroup2 mount given', () => {
    const memo = new PlanMemo();
    const h = host();
    for (const [b, o] of [
      [bundle(), { startGate: { fifo: '/run/tsrun/c/exec.fifo' } }],
      [bundle((s) => { withBind(s); s.process!.terminal = true; }), { startGate: 'caller' as const }],
      [bundle(), { cgroup2Mount: undefined }],
    ] as const) {
      const first = memo.plan(b, options('c-1', h, o));
      const second = memo.plan(b, options('c-2', h, o));
      expect(second.steps.filter((s, i) => s === first.steps[i])).toHaveLength(0);
    }
  });
});
