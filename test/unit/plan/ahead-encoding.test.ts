// create/warm.ts aheadOf: the encoded share a warm init runs ahead. The same frozen steps of a kept
// plan (plan/plan-memo.ts) reuse the last encoding; anything else is encoded afresh.
import { describe, expect, it } from 'vitest';
import { aheadOf } from '../../../src/container/create/warm.js';
import { encodePlan } from '../../../src/native/encode-plan.js';
import { splitAhead } from '../../../src/plan/ahead.js';
import { planBundle } from '../../../src/plan/bundle-plan.js';
import { PlanMemo } from '../../../src/plan/plan-memo.js';
import type { Bundle } from '../../../src/oci/bundle.js';
import { withStdio } from '../../../src/process/stdio.js';
import { planSpec } from '../../helpers/plan-context.js';

const host = { kind: () => 'dir' as const, mountOf: () => ({ mountPoint: '/', shared: false }) };
const bundle = (hostname = 'h'): Bundle => ({ dir: '/bundles/b', configPath: '/bundles/b/config.json', rootfs: '/bundles/b/rootfs', spec: planSpec((s) => { s.hostname = hostname; }) });
const fds = { stdin: 20, stdout: 21, stderr: 22 };
const opts = (id: string) => ({ foreground: true, startGate: 'caller' as const, cgroup2Mount: '/sys/fs/cgroup/unified', keyring: id, host });

describe('aheadOf', () => {
  it('a kept plan\'s frozen steps again: the last encoding, equal to a fresh one', () => {
    const memo = new PlanMemo();
    const a = aheadOf(withStdio(memo.plan(bundle(), opts('c-1')), fds), 'c-1')!;
    const b = aheadOf(withStdio(memo.plan(bundle(), opts('c-2')), fds), 'c-2')!;
    expect(b.encoded).toBe(a.encoded);
    expect(b.encoded.equals(encodePlan(splitAhead(withStdio(memo.plan(bundle(), opts('c-3')), fds))!.ahead, { trace: false }))).toBe(true);
  });

  it('steps that are not a kept plan\'s (not frozen), other objects, or other steps are encoded afresh', () => {
    const memo = new PlanMemo();
    const kept = aheadOf(withStdio(memo.plan(bundle(), opts('c-1')), fds), 'c-1')!;
    const unfrozen = aheadOf(withStdio(planBundle(bundle(), opts('c-2')), fds), 'c-2')!;
    expect(unfrozen.encoded).not.toBe(kept.encoded);
    expect(unfrozen.encoded.equals(kept.encoded)).toBe(true);
    const otherObjects = aheadOf(withStdio(new PlanMemo().plan(bundle(), opts('c-4')), fds), 'c-4')!;
    expect(otherObjects.encoded).not.toBe(unfrozen.encoded);
    const other = aheadOf(withStdio(memo.plan(bundle('other'), opts('c-3')), fds), 'c-3')!;
    expect(other.encoded.equals(kept.encoded)).toBe(false);
  });

  it('none when the share names the container\'s id', () => {
    expect(aheadOf(withStdio(new PlanMemo().plan(bundle('c-9'), opts('c-9')), fds), 'c-9')).toBeUndefined();
  });
});
