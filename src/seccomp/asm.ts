// A small classic-BPF assembler: instructions jump to labels, and assemble() lays them out. A
// conditional jump has 8-bit offsets (at most 255 instructions forward); a target farther away gets
// a trampoline, an unconditional JA (32-bit offset) placed right after the jump, which then jumps to
// the trampoline instead. Placing trampolines moves code, so layout repeats until nothing changes.
import { BPF } from './constants.js';

export interface Label { readonly name: string }

interface Insn {
  code: number;
  k: number;
  /** Conditional jumps: targets (undefined = the next instruction). */
  jt?: Label;
  jf?: Label;
  /** JA: its target. */
  to?: Label;
  /** Far targets reached through trampolines placed after this instruction. */
  far: Label[];
}

export class Assembler {
  private readonly code: (Insn | Label)[] = [];
  private labels = 0;

  label(name = 'L'): Label { return { name: `${name}${this.labels++}` }; }
  place(l: Label): void { this.code.push(l); }

  ld(offset: number): void { this.insn(BPF.LD_W_ABS, offset); }
  and(mask: number): void { this.insn(BPF.ALU_AND_K, mask); }
  ret(value: number): void { this.insn(BPF.RET_K, value); }
  ja(to: Label): void { this.code.push({ code: BPF.JA, k: 0, to, far: [] }); }
  /** A conditional jump on A (JEQ/JGT/JGE/JSET against k); a missing target is the next instruction. */
  jump(code: number, k: number, jt?: Label, jf?: Label): void {
    this.code.push({ code, k: k >>> 0, ...(jt ? { jt } : {}), ...(jf ? { jf } : {}), far: [] });
  }

  private insn(code: number, k: number): void { this.code.push({ code, k: k >>> 0, far: [] }); }

  /** The program as struct sock_filter[] (8 bytes each, little endian: u16 code, u8 jt, u8 jf, u32 k). */
  assemble(): Buffer {
    const insns = this.code.filter((c): c is Insn => 'code' in c);
    let at = new Map<Label, number>();
    let pos = new Map<Insn, number>();
    for (;;) {
      ({ at, pos } = this.layout());
      let grew = false;
      for (const i of insns) {
        for (const target of [i.jt, i.jf]) {
          if (!target || i.far.includes(target)) continue;
          const off = this.where(at, target) - pos.get(i)! - 1;
          if (off < 0) throw new Error(`seccomp assembler: backward jump to ${target.name}`);
          if (off > 255) { i.far.push(target); grew = true; }
        }
      }
      if (!grew) break;
    }
    const size = insns.reduce((n, i) => n + 1 + i.far.length, 0);
    const out = Buffer.alloc(size * 8);
    let o = 0;
    const put = (code: number, jt: number, jf: number, k: number): void => {
      out.writeUInt16LE(code, o); out.writeUInt8(jt, o + 2); out.writeUInt8(jf, o + 3); out.writeUInt32LE(k >>> 0, o + 4); o += 8;
    };
    for (const i of insns) {
      const p = pos.get(i)!;
      const off = (t: Label | undefined): number => {
        if (!t) return i.far.length; // the next instruction, past the trampolines
        const f = i.far.indexOf(t);
        return f >= 0 ? f : this.where(at, t) - p - 1;
      };
      if (i.code === BPF.JA) put(i.code, 0, 0, this.where(at, i.to!) - p - 1);
      else put(i.code, off(i.jt), off(i.jf), i.k);
      i.far.forEach((t, n) => put(BPF.JA, 0, 0, this.where(at, t) - (p + 1 + n) - 1));
    }
    return out;
  }

  private where(at: Map<Label, number>, l: Label): number {
    const p = at.get(l);
    if (p === undefined) throw new Error(`seccomp assembler: label ${l.name} is never placed`);
    return p;
  }

  private layout(): { at: Map<Label, number>; pos: Map<Insn, number> } {
    const at = new Map<Label, number>();
    const pos = new Map<Insn, number>();
    let n = 0;
    for (const c of this.code) {
      if ('code' in c) { pos.set(c, n); n += 1 + c.far.length; } else at.set(c, n);
    }
    return { at, pos };
  }
}
