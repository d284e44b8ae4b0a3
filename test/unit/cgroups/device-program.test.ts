import { describe, expect, it } from 'vitest';
import { ACCESS_BIT, DEV_TYPE, OP, deviceProgram } from '../../../src/cgroups/devices/program.js';
import { DEFAULT_ALLOWED_DEVICES, normaliseRule } from '../../../src/cgroups/devices/rules.js';
import type { DeviceRule } from '../../../src/cgroups/types.js';

/** Decodes 8-byte instructions the way the kernel reads struct bpf_insn on little-endian machines. */
function decode(bytes: Buffer): { code: number; dst: number; src: number; off: number; imm: number }[] {
  return Array.from({ length: bytes.length / 8 }, (_, pc) => ({
    code: bytes.readUInt8(pc * 8),
    dst: bytes.readUInt8(pc * 8 + 1) & 0x0f,
    src: bytes.readUInt8(pc * 8 + 1) >> 4,
    off: bytes.readInt16LE(pc * 8 + 2),
    imm: bytes.readInt32LE(pc * 8 + 4),
  }));
}

/**
 * A tiny eBPF interpreter for exactly the opcodes the generator emits, run against a
 * bpf_cgroup_dev_ctx. It also enforces what the verifier would: every jump lands inside the
 * program, every instruction is reachable, and the program ends in exit.
 */
function run(bytes: Buffer, type: 'b' | 'c', major: number, minor: number, access: string): number {
  const prog = decode(bytes);
  const ctx = [(([...access].reduce((a, ch) => a | ACCESS_BIT[ch as 'r' | 'w' | 'm'], 0)) << 16) | DEV_TYPE[type], major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    const i = prog[pc];
    if (i === undefined) throw new Error(`fell off the program at ${pc}`);
    pc++;
    switch (i.code) {
      case OP.LDX_MEM_W: expect(i.src).toBe(1); r[i.dst] = ctx[i.off / 4] ?? NaN; break;
      case OP.ALU64_MOV_X: r[i.dst] = r[i.src] ?? 0; break;
      case OP.ALU64_MOV_K: r[i.dst] = i.imm; break;
      case OP.ALU64_AND_K: r[i.dst] = (r[i.dst] ?? 0) & i.imm; break;
      case OP.ALU64_RSH_K: r[i.dst] = (r[i.dst] ?? 0) >>> i.imm; break;
      case OP.JMP_JA: pc += i.off; break;
      case OP.JMP_JNE_K: if (r[i.dst] !== i.imm) pc += i.off; break;
      case OP.JMP_JSET_K: if (((r[i.dst] ?? 0) & i.imm) !== 0) pc += i.off; break;
      case OP.JMP_EXIT: return r[0] ?? NaN;
      default: throw new Error(`unexpected opcode 0x${i.code.toString(16)}`);
    }
  }
  throw new Error('no exit');
}

/** Checks the verifier's structural rules: in-range jumps, no unreachable instruction, last insn exits. */
function checkStructure(bytes: Buffer): void {
  const prog = decode(bytes);
  const reached = new Set<number>();
  const todo = [0];
  while (todo.length > 0) {
    const pc = todo.pop() ?? 0;
    if (reached.has(pc)) continue;
    const i = prog[pc];
    expect(i, `jump target ${pc} inside the program`).toBeDefined();
    if (i === undefined) return;
    reached.add(pc);
    if (i.code === OP.JMP_EXIT) continue;
    if (i.code === OP.JMP_JA) todo.push(pc + 1 + i.off);
    else if (i.code === OP.JMP_JNE_K || i.code === OP.JMP_JSET_K) todo.push(pc + 1, pc + 1 + i.off);
    else todo.push(pc + 1);
  }
  expect(reached.size, 'every instruction reachable').toBe(prog.length);
  expect(prog.at(-1)?.code).toBe(OP.JMP_EXIT);
}

const rule = (allow: boolean, type: 'a' | 'b' | 'c', major: number | null, minor: number | null, access = 'rwm'): DeviceRule => ({ allow, type, major, minor, access });
const DENY_ALL = rule(false, 'a', null, null);
const RUNC_DEFAULT = [DENY_ALL, ...DEFAULT_ALLOWED_DEVICES.map((d) => d.rule)];

describe('device program encoding', () => {
  it('starts by loading type, access, major and minor from bpf_cgroup_dev_ctx', () => {
    const insns = decode(deviceProgram([DENY_ALL]));
    expect(insns.slice(0, 6)).toEqual([
      { code: 0x61, dst: 2, src: 1, off: 0, imm: 0 }, // r2 = ctx->access_type
      { code: 0xbf, dst: 3, src: 2, off: 0, imm: 0 }, // r3 = r2
      { code: 0x57, dst: 2, src: 0, off: 0, imm: 0xffff }, // r2 &= 0xffff (type)
      { code: 0x77, dst: 3, src: 0, off: 0, imm: 16 }, // r3 >>= 16 (access)
      { code: 0x61, dst: 4, src: 1, off: 4, imm: 0 }, // r4 = ctx->major
      { code: 0x61, dst: 5, src: 1, off: 8, imm: 0 }, // r5 = ctx->minor
    ]);
  });
  it('encodes deny-all exactly: per bit a JSET test and an unconditional jump to deny', () => {
    const bytes = deviceProgram([DENY_ALL]);
    expect(bytes.toString('hex')).toBe(
      [
        '6112000000000000', 'bf23000000000000', '57020000ffff0000', '7703000010000000',
        '6114040000000000', '6115080000000000',
        // bit m (pc 6): if (r3 & 1) skip the next; goto bit r; goto deny (pc 17 = 9 + 8)
        '4503010001000000', '0500010000000000', '0500080000000000',
        // bit r (pc 9)
        '4503010002000000', '0500010000000000', '0500050000000000',
        // bit w (pc 12)
        '4503010004000000', '0500010000000000', '0500020000000000',
        // allow: r0 = 1; exit   deny: r0 = 0; exit
        'b700000001000000', '9500000000000000', 'b700000000000000', '9500000000000000',
      ].join(''),
    );
  });
  it('produces verifier-friendly programs for every rule list used here', () => {
    for (const rules of [[DENY_ALL], RUNC_DEFAULT, [rule(false, 'c', 10, 237)], [DENY_ALL, rule(true, 'a', null, null)], [rule(true, 'c', 1, 3, 'r'), rule(false, 'b', 8, null, 'w')]]) {
      checkStructure(deviceProgram(rules));
    }
  });
});

describe('device program semantics (last matching rule wins, per access bit)', () => {
  it('runc spec\'s default: deny all, then the default allow list', () => {
    const p = deviceProgram(RUNC_DEFAULT);
    expect(run(p, 'c', 1, 3, 'rw')).toBe(1); // /dev/null
    expect(run(p, 'c', 136, 7, 'rw')).toBe(1); // a pty
    expect(run(p, 'c', 5, 2, 'rw')).toBe(1); // ptmx
    expect(run(p, 'c', 10, 237, 'r')).toBe(0); // loop-control
    expect(run(p, 'b', 8, 0, 'r')).toBe(0); // a disk
    expect(run(p, 'b', 8, 0, 'm')).toBe(1); // mknod of anything is allowed, opening is not
    expect(run(p, 'c', 4, 1, 'm')).toBe(1);
  });
  it('a deny list: everything allowed except the denied device', () => {
    const p = deviceProgram([rule(false, 'c', 10, 237)]);
    expect(run(p, 'c', 10, 237, 'r')).toBe(0);
    expect(run(p, 'c', 10, 236, 'rw')).toBe(1);
    expect(run(p, 'b', 10, 237, 'rw')).toBe(1); // the rule is for char devices only
  });
  it('later rules override earlier ones', () => {
    const p = deviceProgram([DENY_ALL, rule(true, 'c', 1, null), rule(false, 'c', 1, 9)]);
    expect(run(p, 'c', 1, 3, 'r')).toBe(1);
    expect(run(p, 'c', 1, 9, 'r')).toBe(0);
    const q = deviceProgram([rule(false, 'c', 1, 9), DENY_ALL, rule(true, 'a', null, null)]);
    expect(run(q, 'c', 1, 9, 'rwm')).toBe(1);
  });
  it('decides each access bit on its own: r from one rule and w from another make rw', () => {
    const p = deviceProgram([DENY_ALL, rule(true, 'c', 1, 3, 'r'), rule(true, 'c', 1, 3, 'w')]);
    expect(run(p, 'c', 1, 3, 'rw')).toBe(1);
    expect(run(p, 'c', 1, 3, 'm')).toBe(0);
    const ro = deviceProgram([rule(false, 'c', 1, 3, 'w')]);
    expect(run(ro, 'c', 1, 3, 'r')).toBe(1);
    expect(run(ro, 'c', 1, 3, 'rw')).toBe(0); // O_RDWR asks for both bits at once
  });
  it('type "a" with a major matches char and block devices of that major', () => {
    const p = deviceProgram([DENY_ALL, rule(true, 'a', 7, null)]);
    expect(run(p, 'b', 7, 1, 'r')).toBe(1);
    expect(run(p, 'c', 7, 1, 'r')).toBe(1);
    expect(run(p, 'c', 8, 1, 'r')).toBe(0);
  });
});

describe('device rule normalisation', () => {
  it('fills OCI defaults: type a, any major/minor, access rwm; -1 means any', () => {
    expect(normaliseRule({ allow: false }, 'f')).toEqual(DENY_ALL);
    expect(normaliseRule({ allow: true, type: 'c', major: 1, minor: -1, access: 'wr' }, 'f')).toEqual(rule(true, 'c', 1, null, 'rw'));
  });
  it('refuses device numbers the program cannot compare', () => {
    expect(() => normaliseRule({ allow: true, major: 2 ** 31 }, 'f')).toThrow('f.major: must be a device number or omitted, got 2147483648');
  });
  it('exports the default allow list with the paths it covers', () => {
    expect(DEFAULT_ALLOWED_DEVICES.map((d) => d.path).filter(Boolean)).toEqual([
      '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/console', '/dev/ptmx', '/dev/pts/*',
    ]);
  });
});
