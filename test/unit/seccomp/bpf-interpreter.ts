// A classic-BPF interpreter for seccomp programs, written for the tests: runs a compiled filter on a
// struct seccomp_data without a kernel (and without root), with the kernel's checks on jumps.
export interface SeccompData {
  nr: number;
  arch: number;
  args?: bigint[];
}

function word(d: SeccompData, off: number): number {
  if (off === 0) return d.nr >>> 0;
  if (off === 4) return d.arch >>> 0;
  if (off >= 16 && off < 64 && off % 4 === 0) {
    const arg = BigInt.asUintN(64, d.args?.[Math.floor((off - 16) / 8)] ?? 0n);
    return Number((off % 8 === 0 ? arg : arg >> 32n) & 0xffff_ffffn);
  }
  throw new Error(`load from offset ${off} outside seccomp_data`);
}

/** Returns the filter's 32-bit return value; throws on anything the kernel's checker would refuse. */
export function runFilter(program: Buffer, d: SeccompData): number {
  const n = program.length / 8;
  if (n === 0 || n > 4096 || !Number.isInteger(n)) throw new Error(`bad program length ${program.length}`);
  let a = 0;
  for (let pc = 0, steps = 0; pc < n; pc++, steps++) {
    if (steps > n) throw new Error('loop');
    const o = pc * 8;
    const code = program.readUInt16LE(o), jt = program.readUInt8(o + 2), jf = program.readUInt8(o + 3), k = program.readUInt32LE(o + 4);
    const jump = (cond: boolean): void => { pc += cond ? jt : jf; if (pc + 1 >= n) throw new Error(`jump past the end at ${o / 8}`); };
    switch (code) {
      case 0x20: a = word(d, k); break;
      case 0x54: a = (a & k) >>> 0; break;
      case 0x05: pc += k; if (pc + 1 >= n) throw new Error('ja past the end'); break;
      case 0x15: jump(a === k); break;
      case 0x25: jump(a > k); break;
      case 0x35: jump(a >= k); break;
      case 0x45: jump((a & k) !== 0); break;
      case 0x06: return k;
      default: throw new Error(`unknown opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('fell off the end of the program');
}
