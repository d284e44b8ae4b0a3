// Generates the BPF_PROG_TYPE_CGROUP_DEVICE program that enforces device rules on cgroup v2 (v2 has no
// devices.allow file: the kernel asks an attached eBPF program instead). Pure: rules in, bytes out.
//
// The kernel calls the program with a struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// where access_type = (access << 16) | type, type 1 = block, 2 = char, and access is a set of bits
// mknod = 1, read = 2, write = 4 (one open() for O_RDWR asks for read|write at once). Return 1 = allow.
//
// Rules follow v1 semantics: everything starts allowed and the last matching rule wins (see rules.ts).
// Because one request can carry several access bits, and rules can grant them separately ("r" in one rule,
// "w" in another), the program decides each requested bit on its own and allows the request only if every
// bit is allowed:
//
//     load type, access, major, minor into r2..r5
//     for each bit m, r, w:
//        if the bit is not requested: go to the next bit
//        walk the rules containing the bit from last to first; at the first whose type/major/minor match,
//        allowed → next bit, denied → return 0. No match → the starting state (allowed).
//     return 1
//
// A rule without conditions (type a, any major/minor) ends its walk, so nothing after it is emitted: the
// verifier refuses programs with unreachable instructions.
import type { DeviceRule } from '../types.js';

/** The registers of the program, in the order the prologue fills them. */
const R0 = 0, R1 = 1, TYPE = 2, ACCESS = 3, MAJOR = 4, MINOR = 5;

/** Opcodes used (see include/uapi/linux/bpf.h and bpf_common.h): class | operation | source. */
export const OP = {
  LDX_MEM_W: 0x61, // BPF_LDX | BPF_MEM | BPF_W : dst = *(u32 *)(src + off)
  ALU64_MOV_X: 0xbf, // BPF_ALU64 | BPF_MOV | BPF_X : dst = src
  ALU64_MOV_K: 0xb7, // BPF_ALU64 | BPF_MOV | BPF_K : dst = imm
  ALU64_AND_K: 0x57, // dst &= imm
  ALU64_RSH_K: 0x77, // dst >>= imm
  JMP_JA: 0x05, // pc += off
  JMP_JNE_K: 0x55, // if dst != imm: pc += off
  JMP_JSET_K: 0x45, // if dst & imm: pc += off
  JMP_EXIT: 0x95,
} as const;

export const DEV_TYPE = { b: 1, c: 2 } as const;
export const ACCESS_BIT = { m: 1, r: 2, w: 4 } as const;

/** One instruction, with a label instead of an offset for jumps until the program is laid out. */
interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  target?: string;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number, target?: string): Insn =>
  target === undefined ? { code, dst, src, off, imm } : { code, dst, src, off, imm, target };

class Assembler {
  readonly insns: Insn[] = [];
  readonly labels = new Map<string, number>();
  readonly referenced = new Set<string>();
  emit(i: Insn): void {
    if (i.target !== undefined) this.referenced.add(i.target);
    this.insns.push(i);
  }
  label(name: string): void {
    this.labels.set(name, this.insns.length);
  }
  /** Resolves jump targets to pc-relative offsets (off counts from the instruction after the jump). */
  encode(): Buffer {
    const out = Buffer.alloc(this.insns.length * 8);
    this.insns.forEach((i, pc) => {
      let off = i.off;
      if (i.target !== undefined) {
        const at = this.labels.get(i.target);
        if (at === undefined) throw new Error(`device program: undefined label ${i.target}`);
        off = at - (pc + 1);
      }
      out.writeUInt8(i.code, pc * 8);
      out.writeUInt8((i.src << 4) | i.dst, pc * 8 + 1);
      out.writeInt16LE(off, pc * 8 + 2);
      out.writeInt32LE(i.imm, pc * 8 + 4);
    });
    return out;
  }
}

/** Emits one rule's checks; returns false when the rule matches unconditionally (the walk ends there). */
function emitRule(asm: Assembler, rule: DeviceRule, nextRule: string, nextBit: string): boolean {
  let conditional = false;
  if (rule.type !== 'a') {
    asm.emit(insn(OP.JMP_JNE_K, TYPE, 0, 0, DEV_TYPE[rule.type], nextRule));
    conditional = true;
  }
  if (rule.major !== null) {
    asm.emit(insn(OP.JMP_JNE_K, MAJOR, 0, 0, rule.major, nextRule));
    conditional = true;
  }
  if (rule.minor !== null) {
    asm.emit(insn(OP.JMP_JNE_K, MINOR, 0, 0, rule.minor, nextRule));
    conditional = true;
  }
  asm.emit(insn(OP.JMP_JA, 0, 0, 0, 0, rule.allow ? nextBit : 'deny'));
  return conditional;
}

/**
 * Programs already compiled, by rule list (as latin1 strings: they live in the V8 startup snapshot,
 * where src/startup/snapshot-main.ts compiles the default config's rules at build time, ~0.8 ms a run).
 */
const compiled = new Map<string, string>();

/** The program as raw instruction bytes (8 bytes per instruction, little-endian, as bpf(2) takes them). */
export function deviceProgram(rules: readonly DeviceRule[]): Buffer {
  const key = JSON.stringify(rules);
  let program = compiled.get(key);
  if (program === undefined) compiled.set(key, (program = compileDeviceProgram(rules).toString('latin1')));
  return Buffer.from(program, 'latin1');
}

function compileDeviceProgram(rules: readonly DeviceRule[]): Buffer {
  const asm = new Assembler();
  asm.emit(insn(OP.LDX_MEM_W, TYPE, R1, 0, 0)); // access_type
  asm.emit(insn(OP.ALU64_MOV_X, ACCESS, TYPE, 0, 0));
  asm.emit(insn(OP.ALU64_AND_K, TYPE, 0, 0, 0xffff));
  asm.emit(insn(OP.ALU64_RSH_K, ACCESS, 0, 0, 16));
  asm.emit(insn(OP.LDX_MEM_W, MAJOR, R1, 4, 0));
  asm.emit(insn(OP.LDX_MEM_W, MINOR, R1, 8, 0));

  let ruleLabels = 0;
  const bits = Object.entries(ACCESS_BIT) as [keyof typeof ACCESS_BIT, number][];
  bits.forEach(([letter, bit], b) => {
    const nextBit = b + 1 < bits.length ? `bit${b + 1}` : 'allow';
    asm.label(`bit${b}`);
    asm.emit(insn(OP.JMP_JSET_K, ACCESS, 0, 1, bit)); // requested: skip the jump below
    asm.emit(insn(OP.JMP_JA, 0, 0, 0, 0, nextBit));
    const relevant = rules.filter((r) => r.access.includes(letter)).reverse();
    for (const rule of relevant) {
      const nextRule = `rule${ruleLabels++}`;
      const conditional = emitRule(asm, rule, nextRule, nextBit);
      asm.label(nextRule);
      if (!conditional) break;
    }
    // Falling out of the walk: no rule matched, and the starting state allows.
  });
  asm.label('allow');
  asm.emit(insn(OP.ALU64_MOV_K, R0, 0, 0, 1));
  asm.emit(insn(OP.JMP_EXIT, 0, 0, 0, 0));
  if (asm.referenced.has('deny')) {
    asm.label('deny');
    asm.emit(insn(OP.ALU64_MOV_K, R0, 0, 0, 0));
    asm.emit(insn(OP.JMP_EXIT, 0, 0, 0, 0));
  }
  return asm.encode();
}
