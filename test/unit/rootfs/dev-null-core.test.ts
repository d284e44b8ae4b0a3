// The stdio reopen after pivot_root (runc's reOpenDevNull) and the /dev/core link, as planned.
import { describe, expect, it } from 'vitest';
import { containerPlan } from '../../../src/plan/container.js';
import { planContext, planSpec } from '../../helpers/plan-context.js';

describe('stdio on /dev/null', () => {
  it('is reopened from the container\'s /dev/null after pivot_root and the masks', () => {
    const ops = containerPlan(planSpec(), planContext).steps.map((s) => s.op);
    const pivot = ops.indexOf('pivotRoot');
    expect(ops.indexOf('reopenDevNull')).toBeGreaterThan(pivot);
    expect(ops.slice(ops.indexOf('reopenDevNull')).filter((op) => op === 'mask' || op === 'pivotRoot')).toEqual([]);
  });

  it('is left alone when /dev is a bind mount (runc sets up no /dev of its own then)', () => {
    const spec = planSpec((s) => {
      s.mounts = [...s.mounts!.filter((m) => m.destination !== '/dev'), { destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }];
    });
    expect(containerPlan(spec, planContext).steps.some((s) => s.op === 'reopenDevNull')).toBe(false);
  });
});

describe('/dev/core', () => {
  const links = (kcore: boolean): string[] => containerPlan(planSpec(), {
    ...planContext, host: { kind: (p) => (p === '/proc/kcore' && !kcore ? undefined : planContext.host.kind(p)) },
  }).steps.flatMap((s) => (s.op === 'symlink' ? [s.linkpath] : []));

  it('links to /proc/kcore where the host has it', () => expect(links(true)).toContain('/dev/core'));
  it('is not made where the host has no /proc/kcore (it would dangle; runc checks the same)', () => expect(links(false)).not.toContain('/dev/core'));
});
