import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodePlan } from '../../../src/native/encode-plan.js';
import { MAX_PASS_FDS, OP, PLAN_FLAG, PLAN_MAGIC, PLAN_VERSION, REPORT, STEP_FLAG } from '../../../src/native/ops.js';
import type { Plan } from '../../../src/abi/steps.js';

const header = readFileSync(new URL('../../../native-bindings/shim.h', import.meta.url), 'utf8');

function cEnum(prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of header.matchAll(new RegExp(`${prefix}([A-Z_]+) = (\\d+)`, 'g'))) out.set(m[1]!, Number(m[2]));
  return out;
}
function cDefine(prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of header.matchAll(new RegExp(`#define ${prefix}([A-Z_]+) (\\d+)u`, 'g'))) out.set(m[1]!, Number(m[2]));
  return out;
}
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

describe('wire numbers', () => {
  it('every TypeScript op has the same number in shim.h', () => {
    const ops = cEnum('TSRUN_OP_');
    for (const [name, n] of Object.entries(OP)) expect([name, ops.get(snake(name))]).toEqual([name, n]);
    expect(ops.size - 1).toBe(Object.keys(OP).length); // minus TSRUN_OP_MAX
  });
  it('flags and report kinds match shim.h', () => {
    expect(Object.fromEntries(cDefine('TSRUN_PLAN_'))).toMatchObject({ WAIT_GO: PLAN_FLAG.WAIT_GO, TRACE: PLAN_FLAG.TRACE, PDEATHSIG: PLAN_FLAG.PDEATHSIG });
    expect(Object.fromEntries(cDefine('TSRUN_STEP_'))).toEqual(STEP_FLAG);
    expect(Object.fromEntries(cEnum('TSRUN_REPORT_'))).toEqual(REPORT);
    expect(header).toContain(`TSRUN_PLAN_MAGIC 0x${PLAN_MAGIC.toString(16)}u`);
    expect(header).toContain(`TSRUN_PLAN_VERSION ${PLAN_VERSION}u`);
    expect(header).toContain(`TSRUN_MAX_PASS_FDS ${MAX_PASS_FDS}\n`);
  });
});

const basePlan = (steps: Plan['steps']): Plan => ({
  namespaces: [{ type: 'pid', flag: 0x20000000, action: 'create' }, { type: 'network', flag: 0x40000000, action: 'join', path: '/proc/1/ns/net' }],
  cloneFlags: 0x20000000, waitForParent: true, dieWithParent: false, preserveFds: 2, steps,
});

describe('encodePlan', () => {
  it('refuses a step with more than 65535 strings (the count is 16 bits; a wrapped one made the shim read strings as steps)', () => {
    const env = Array.from({ length: 65_535 }, (_, i) => `E${i}=x`);
    expect(() => encodePlan(basePlan([{ op: 'exec', args: ['sh'], env, why: 'w', field: 'process.args' }]), { trace: false }))
      .toThrow(/step exec \(process\.args\): 65536 strings do not fit the wire format/);
    expect(() => encodePlan(basePlan([{ op: 'exec', args: [], env, why: 'w' }]), { trace: false })).not.toThrow();
  });

  it('writes the header: magic, version, clone flags, flags, preserved fds, passed fds, joins', () => {
    const b = encodePlan(basePlan([]), { trace: true });
    expect(b.readUInt32LE(0)).toBe(PLAN_MAGIC);
    expect(b.readUInt32LE(4)).toBe(2);
    expect(b.readBigUInt64LE(8)).toBe(0x20000000n);
    expect(b.readUInt32LE(16)).toBe(PLAN_FLAG.WAIT_GO | PLAN_FLAG.TRACE);
    expect(b.readUInt32LE(20)).toBe(2);
    expect(b.readUInt32LE(24)).toBe(0); // no fd passed on
    expect(b.readUInt32LE(28)).toBe(1); // one join
    expect(b.readUInt32LE(32)).toBe(0x40000000);
    expect(b.toString('utf8', 40, 40 + b.readUInt32LE(36))).toBe('/proc/1/ns/net');
  });

  it('lists the fds of tsrun\'s the plan passes on after the preserved count', () => {
    const b = encodePlan({ ...basePlan([]), passFds: [17, 42] }, { trace: false });
    expect([b.readUInt32LE(24), b.readInt32LE(28), b.readInt32LE(32)]).toEqual([2, 17, 42]);
    expect(b.readUInt32LE(36)).toBe(1); // then the joins
    expect(() => encodePlan({ ...basePlan([]), passFds: Array.from({ length: MAX_PASS_FDS + 1 }, (_, i) => 10 + i) }, { trace: false })).toThrow(/at most 16 fds/);
  });

  it('encodes a mount step with its flags, ints and strings in shim.h order', () => {
    const b = encodePlan(basePlan([{ op: 'mount', source: 'proc', target: '/proc', fstype: 'proc', data: '', flags: 14, mkdir: 'dir', inRoot: true, optional: true, why: '' }]), { trace: false });
    let o = 40 + '/proc/1/ns/net'.length;
    expect(b.readUInt32LE(o)).toBe(1); o += 4;
    expect([b.readUInt16LE(o), b.readUInt16LE(o + 2), b.readUInt16LE(o + 4), b.readUInt16LE(o + 6)]).toEqual([OP.mount, STEP_FLAG.IN_ROOT | STEP_FLAG.OPTIONAL, 2, 4]);
    o += 8;
    expect([b.readBigInt64LE(o), b.readBigInt64LE(o + 8)]).toEqual([14n, 1n]);
    o += 16;
    const strs: string[] = [];
    for (let i = 0; i < 4; i++) { const n = b.readUInt32LE(o); strs.push(b.toString('utf8', o + 4, o + 4 + n)); o += 4 + n; }
    expect(strs).toEqual(['proc', '/proc', 'proc', '']);
    expect(o).toBe(b.length);
  });

  it('encodes exec as argc, envc then argv and envp', () => {
    const b = encodePlan(basePlan([{ op: 'exec', args: ['sh', '-c', 'x'], env: ['A=1'], why: '' }]), { trace: false });
    const o = 40 + 14 + 4 + 8;
    expect([b.readBigInt64LE(o), b.readBigInt64LE(o + 8)]).toEqual([3n, 1n]);
  });

  it('refuses a string with a NUL byte rather than truncating it in C', () => {
    expect(() => encodePlan(basePlan([{ op: 'sethostname', name: 'a\0b', why: '' }]), { trace: false })).toThrow(/NUL/);
  });

  it('keeps unlimited rlimits as all-ones 64-bit values', () => {
    const b = encodePlan(basePlan([{ op: 'setrlimit', resource: 7, name: 'RLIMIT_NOFILE', soft: 0xffff_ffff_ffff_ffffn, hard: 0xffff_ffff_ffff_ffffn, why: '' }]), { trace: false });
    expect(b.readBigUInt64LE(b.length - 8)).toBe(0xffff_ffff_ffff_ffffn);
  });
});

describe('encodePlan: seccomp', () => {
  it('sends the BPF program binary-safe, as one i64 per struct sock_filter after the flags', () => {
    // Two instructions with NUL and 0xff bytes: LD arch; RET ALLOW.
    const prog = Buffer.from([0x20, 0, 0, 0, 4, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);
    const b = encodePlan(basePlan([{ op: 'seccomp', flags: 2, program: prog.toString('base64'), instructions: 2, syscalls: 0, defaultAction: 'SCMP_ACT_ALLOW', why: '' }]), { trace: false });
    let o = 40 + 14 + 4;
    expect([b.readUInt16LE(o), b.readUInt16LE(o + 2), b.readUInt16LE(o + 4), b.readUInt16LE(o + 6)]).toEqual([OP.seccomp, 0, 3, 0]);
    o += 8;
    expect(b.readBigInt64LE(o)).toBe(2n);
    // Each word read as a u64 is code | jt << 16 | jf << 24 | k << 32, as shim.h documents.
    expect(b.readBigUInt64LE(o + 8)).toBe(0x20n | (4n << 32n));
    expect(b.readBigUInt64LE(o + 16)).toBe(0x06n | (0x7fff0000n << 32n));
    expect(b.subarray(o + 8)).toEqual(prog);
    expect(header).toMatch(/TSRUN_OP_SECCOMP = 35, +\/\* int: seccomp\(2\) flags, then one int per BPF instruction/);
  });
});
