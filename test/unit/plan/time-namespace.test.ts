// A new time namespace (linux.namespaces type "time", linux.timeOffsets): made by tsrun-init's first
// stage, never by the clone, so that the offsets are written while no process is in it (time_namespaces(7)).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { describeStep } from '../../../src/abi/describe-step.js';
import { containerPlan as buildPlan } from '../../../src/plan/container.js';
import { timeOffsetsText } from '../../../src/namespaces/plan.js';
import { encodePlan } from '../../../src/native/encode-plan.js';
import { planContext, planSpec } from '../../helpers/plan-context.js';

const CLONE_NEWTIME = 0x80;

describe('time namespace plan', () => {
  const plan = buildPlan(planSpec((s) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { boottime: { secs: 86400 * 365 }, monotonic: { secs: -60, nanosecs: 5 } };
  }), planContext);

  it('is listed as a new namespace but is not in the clone flags', () => {
    expect(plan.namespaces.find((n) => n.type === 'time')).toMatchObject({ action: 'create' });
    expect(plan.cloneFlags & CLONE_NEWTIME).toBe(0);
  });

  it('unshares and writes the offsets to /proc/self/timens_offsets in tsrun-init\'s first stage, before the clone', () => {
    const titles = plan.steps.map(describeStep);
    const u = titles.indexOf('unshare CLONE_NEWTIME');
    expect(u).toBeGreaterThanOrEqual(0);
    expect(titles.slice(u, u + 2)).toEqual([
      'unshare CLONE_NEWTIME',
      `write ${JSON.stringify('monotonic -60 5\nboottime 31536000 0\n')} to /proc/self/timens_offsets`,
    ]);
    expect(plan.steps.slice(u, u + 2).every((s) => s.beforeClone === true)).toBe(true);
    expect(plan.steps.filter((s) => s.beforeClone)).toHaveLength(2);
    expect(plan.steps[u + 1]!.field).toBe('linux.timeOffsets');
    // The flag reaches the shim (TSRUN_STEP_BEFORE_CLONE = 64 in the step's u16 flags).
    const wire = encodePlan(plan, { trace: false });
    expect(wire.includes(Buffer.from([36, 0, 64, 0]))).toBe(true);
  });

  it('writes only the clocks given; no offsets, no write', () => {
    expect(timeOffsetsText({ boottime: { secs: 7 } })).toBe('boottime 7 0\n');
    const bare = buildPlan(planSpec((s) => { s.linux!.namespaces!.push({ type: 'time' }); }), planContext);
    expect(bare.steps.some((s) => s.op === 'writeFile' && s.path.endsWith('timens_offsets'))).toBe(false);
    expect(bare.steps.some((s) => s.op === 'unshare')).toBe(true);
  });

  it('refuses offsets without a new time namespace, naming linux.timeOffsets', () => {
    expect(() => buildPlan(planSpec((s) => { s.linux!.timeOffsets = { boottime: { secs: 1 } }; }), planContext)).toThrow(ConfigError);
    expect(() => buildPlan(planSpec((s) => { s.linux!.namespaces!.push({ type: 'time', path: '/proc/1/ns/time' }); s.linux!.timeOffsets = { boottime: { secs: 1 } }; }), planContext))
      .toThrow(/linux\.timeOffsets: needs a new time namespace/);
  });

  it('joins a time namespace by path like any other (setns before the clone)', () => {
    const joined = buildPlan(planSpec((s) => { s.linux!.namespaces!.push({ type: 'time', path: '/proc/1/ns/time' }); }), planContext);
    expect(joined.namespaces.find((n) => n.type === 'time')).toMatchObject({ action: 'join', path: '/proc/1/ns/time' });
    expect(joined.steps.some((s) => s.op === 'unshare')).toBe(false);
  });
});
