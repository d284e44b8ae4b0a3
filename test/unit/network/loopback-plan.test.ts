// The plan brings `lo` up in a new network namespace only: a joined one (a path) and the host's are
// someone else's to configure.
import { describe, expect, it } from 'vitest';
import { containerPlan as buildPlan } from '../../../src/plan/container.js';
import { encodePlan } from '../../../src/native/encode-plan.js';
import { OP } from '../../../src/native/ops.js';
import type { Spec } from '../../../src/oci/types.js';
import { planContext, planSpec } from '../../helpers/plan-context.js';

const withNet = (net: { type: 'network'; path?: string } | undefined) => planSpec((s: Spec) => {
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
  if (net) s.linux!.namespaces!.push(net);
});

describe('loopbackUp step', () => {
  it('is planned for a new network namespace, naming its entry, before capabilities are dropped', () => {
    const steps = buildPlan(withNet({ type: 'network' }), planContext).steps;
    const i = steps.findIndex((s) => s.op === 'loopbackUp');
    expect(i).toBeGreaterThanOrEqual(0);
    expect(steps[i]!.field).toMatch(/^linux\.namespaces\[\d+\]$/);
    expect(i).toBeLessThan(steps.findIndex((s) => s.op === 'bounding'));
  });

  it('is not planned for a joined namespace or without one', () => {
    for (const spec of [withNet({ type: 'network', path: '/proc/1/ns/net' }), withNet(undefined)]) {
      expect(buildPlan(spec, planContext).steps.some((s) => s.op === 'loopbackUp')).toBe(false);
    }
  });

  it('goes on the wire as its own op with no operands', () => {
    const plan = { namespaces: [], cloneFlags: 0, waitForParent: false, dieWithParent: false, preserveFds: 0, steps: [{ op: 'loopbackUp' as const, why: 'x' }] };
    const wire = encodePlan(plan, { trace: false });
    // header 4+4+8+4+4 + n_pass 4 + n_joins 4 + n_steps 4 = 36, then u16 op, u16 flags, u16 n_int, u16 n_str.
    expect(wire.readUInt16LE(36)).toBe(OP.loopbackUp);
    expect(wire.readUInt16LE(40)).toBe(0);
    expect(wire.readUInt16LE(42)).toBe(0);
    expect(wire.length).toBe(44);
  });
});
