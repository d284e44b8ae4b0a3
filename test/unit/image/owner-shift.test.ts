// The pure parts of a user's shifted store: which host id an owner becomes, which owners are refused,
// the key recorded with a layer, and the plans tsrun-init runs (chowns in chunks, a removal).
import { describe, expect, it } from 'vitest';
import { hostIdOf, insideRanges, MAX_CHOWNS_PER_PLAN, ownerProblem, ownershipPlans, shiftKey, shifts, type IdShift } from '../../../src/image/owner-shift.js';
import { removalPlan } from '../../../src/image/file-plan.js';
import { encodePlan } from '../../../src/native/encode-plan.js';
import { OP } from '../../../src/native/ops.js';

const user: IdShift = {
  uid: [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65535 }],
  gid: [{ containerID: 0, hostID: 1001, size: 1 }, { containerID: 1, hostID: 200000, size: 65535 }],
};
const ownOnly: IdShift = { uid: [{ containerID: 0, hostID: 1000, size: 1 }], gid: [{ containerID: 0, hostID: 1001, size: 1 }] };

describe('owner shift: ids', () => {
  it('0 is the user\'s own id, 1…65535 the subordinate range from its start, beyond that nothing', () => {
    expect(hostIdOf(user.uid, 0)).toBe(1000);
    expect(hostIdOf(user.uid, 1)).toBe(100000);
    expect(hostIdOf(user.uid, 1000)).toBe(100999);
    expect(hostIdOf(user.uid, 65534)).toBe(165533);
    expect(hostIdOf(user.uid, 65535)).toBe(165534);
    expect(hostIdOf(user.uid, 65536)).toBeUndefined();
    expect(hostIdOf(user.gid, 1000)).toBe(200999);
  });

  it('refuses an owner no mapping covers, naming the kind, the id, the ranges and the fix; accepts the rest', () => {
    expect(ownerProblem(user, 0, 0)).toBeUndefined();
    expect(ownerProblem(user, 65534, 65534)).toBeUndefined();
    expect(ownerProblem(user, 70000, 0)).toMatch(/^its owner uid 70000 is outside the uids this user's containers have \(0-65535: .*\/etc\/subuid\); grant a larger range as root \(usermod --add-subuids/);
    expect(ownerProblem(user, 0, 65536)).toMatch(/^its owner gid 65536 .*\/etc\/subgid.*--add-subgids/);
    expect(insideRanges([{ containerID: 0, hostID: 5, size: 1 }, { containerID: 10, hostID: 9, size: 5 }])).toBe('0, 10-14');
  });

  it('shifts only with more than the own id; the key names both maps', () => {
    expect(shifts(undefined)).toBe(false);
    expect(shifts(ownOnly)).toBe(false);
    expect(shiftKey(ownOnly)).toBeUndefined();
    expect(shifts(user)).toBe(true);
    expect(shiftKey(user)).toBe('uid=0:1000:1,1:100000:65535;gid=0:1001:1,1:200000:65535');
  });
});

describe('owner shift: plans', () => {
  it('one chown per entry beneath the layer, as root of a user namespace the helpers map, ending in exit', () => {
    const [plan, ...more] = ownershipPlans('/store/tmp/1-x/root', [
      { path: 'srv/app', uid: 1000, gid: 1000, mode: -1 },
      { path: 'srv/app/suid', uid: 1000, gid: 1000, mode: 0o4755 },
    ], user);
    expect(more).toEqual([]);
    expect(plan!.idMaps).toEqual({ uid: user.uid, gid: user.gid, setgroups: 'allow', writer: 'helper' });
    expect(plan!.namespaces.map((n) => [n.type, n.action])).toEqual([['user', 'create']]);
    expect(plan!.waitForParent).toBe(true);
    expect(plan!.steps.map((s) => s.op)).toEqual(['setresgid', 'setresuid', 'openRoot', 'chownBeneath', 'chownBeneath', 'exit']);
    expect(plan!.steps[2]).toMatchObject({ op: 'openRoot', path: '/store/tmp/1-x/root' });
    expect(plan!.steps[4]).toMatchObject({ path: 'srv/app/suid', uid: 1000, gid: 1000, mode: 0o4755 });
  });

  it('splits a layer of many owned files into plans tsrun-init accepts (at most 100000 steps)', () => {
    const entries = Array.from({ length: 2 * MAX_CHOWNS_PER_PLAN + 1 }, (_, i) => ({ path: `f${i}`, uid: 1, gid: 1, mode: -1 }));
    const plans = ownershipPlans('/l', entries, user);
    expect(plans.map((p) => p.steps.length)).toEqual([MAX_CHOWNS_PER_PLAN + 4, MAX_CHOWNS_PER_PLAN + 4, 5]);
    expect(plans.every((p) => p.steps.length < 100_000)).toBe(true);
  });

  it('sets file capabilities after the chown that clears them, and counts them in the plan\'s size', () => {
    const [plan] = ownershipPlans('/l', [{ path: 'bin/ping', uid: 0, gid: 0, mode: 0o4755, xattrs: [{ name: 'security.capability', value: 'AQAAAg==' }] }], user);
    expect(plan!.steps.slice(3).map((s) => s.op)).toEqual(['chownBeneath', 'setxattrBeneath', 'exit']);
    expect(plan!.steps[4]).toMatchObject({ path: 'bin/ping', name: 'security.capability', value: 'AQAAAg==' });
    const many = Array.from({ length: MAX_CHOWNS_PER_PLAN }, (_, i) => ({ path: `f${i}`, uid: 1, gid: 1, mode: -1, xattrs: [{ name: 'security.capability', value: 'AA==' }] }));
    expect(ownershipPlans('/l', many, user).every((p) => p.steps.length <= MAX_CHOWNS_PER_PLAN + 5)).toBe(true);
  });

  it('encodes setxattrBeneath as the length, the value padded to 8-byte words, then path and name', () => {
    const plan = removalPlan('/d', 'x', user);
    const value = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    plan.steps.splice(3, 0, { op: 'setxattrBeneath', path: 'p', name: 'security.capability', value: value.toString('base64'), why: '' });
    const b = encodePlan(plan, { trace: false });
    const at = b.indexOf(value);
    expect([b.readUInt16LE(at - 16), b.readUInt16LE(at - 12), b.readUInt16LE(at - 10)]).toEqual([OP.setxattrBeneath, 3, 2]);
    expect(b.readBigInt64LE(at - 8)).toBe(11n);
    expect(b.subarray(at, at + 16)).toEqual(Buffer.concat([value, Buffer.alloc(5)]));
    expect(b.toString('utf8', at + 20, at + 21)).toBe('p');
  });

  it('a removal names one entry of its parent directory', () => {
    const p = removalPlan('/state/c1', 'upper', user);
    expect(p.steps.map((s) => s.op)).toEqual(['setresgid', 'setresuid', 'openRoot', 'removeTree', 'exit']);
    expect(p.steps[3]).toMatchObject({ path: 'upper' });
  });

  it('encodes chownBeneath as uid, gid, mode (-1 as all ones) and the path; removeTree and exit', () => {
    const plan = removalPlan('/d', 'x', user);
    plan.steps.splice(3, 0, { op: 'chownBeneath', path: 'a/b', uid: 7, gid: 8, mode: -1, why: '' });
    const b = encodePlan(plan, { trace: false });
    const at = b.indexOf(Buffer.from('a/b'));
    // step header (op, flags, n_int, n_str), 3 ints, then the string's length and bytes
    const o = at - 4 - 24 - 8;
    expect([b.readUInt16LE(o), b.readUInt16LE(o + 4), b.readUInt16LE(o + 6)]).toEqual([OP.chownBeneath, 3, 1]);
    expect([b.readBigInt64LE(o + 8), b.readBigInt64LE(o + 16), b.readBigInt64LE(o + 24)]).toEqual([7n, 8n, -1n]);
    expect(b.readUInt16LE(b.length - 16)).toBe(OP.exit);
  });
});
