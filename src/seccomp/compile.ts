// Profile → classic BPF seccomp filter. Layout:
//   load arch; one JEQ per listed ABI → its block; anything else → the foreign-ABI action
//   block: load nr; (x86_64: nr >= __X32_SYSCALL_BIT → the x32 block, or the foreign action)
//          syscalls with one unconditional action: JEQ chains grouped by action, each chunk of at most
//          CHUNK comparisons followed by its RET (so its jumps stay within 8-bit offsets);
//          syscalls with argument rules: JEQ nr, then each rule's conditions (ANDed), RET its action;
//          then the default action.
// 64-bit arguments are compared as two 32-bit halves (seccomp_data holds them little endian).
import { ConfigError } from '../errors.js';
import { Assembler, type Label } from './asm.js';
import { BPF, BPF_MAXINSNS, DATA, X32_SYSCALL_BIT } from './constants.js';
import type { Action, Condition, Profile, SyscallRules } from './profile.js';
import { AUDIT_ARCH_X86_64, syscallNumber, type Arch } from './syscalls.js';

const CHUNK = 200;

export interface Filter {
  /** struct sock_filter[], 8 bytes per instruction. */
  program: Buffer;
  instructions: number;
}

const hi = (v: bigint): number => Number((v >> 32n) & 0xffff_ffffn);
const lo = (v: bigint): number => Number(v & 0xffff_ffffn);

/** Falls through when the condition holds, jumps to `fail` when it does not. */
function condition(a: Assembler, c: Condition, fail: Label): void {
  const ok = a.label('ok');
  const [dh, dl] = [hi(c.value), lo(c.value)];
  a.ld(DATA.argHigh(c.index));
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      a.jump(BPF.JEQ_K, dh, undefined, fail); a.ld(DATA.argLow(c.index)); a.jump(BPF.JEQ_K, dl, undefined, fail);
      break;
    case 'SCMP_CMP_NE':
      a.jump(BPF.JEQ_K, dh, undefined, ok); a.ld(DATA.argLow(c.index)); a.jump(BPF.JEQ_K, dl, fail, undefined);
      break;
    case 'SCMP_CMP_MASKED_EQ':
      a.and(hi(c.mask)); a.jump(BPF.JEQ_K, dh, undefined, fail);
      a.ld(DATA.argLow(c.index)); a.and(lo(c.mask)); a.jump(BPF.JEQ_K, dl, undefined, fail);
      break;
    case 'SCMP_CMP_GT': case 'SCMP_CMP_GE':
      // high > d.high: holds; high < d.high: fails; equal: the low halves decide.
      a.jump(BPF.JGT_K, dh, ok, undefined); a.jump(BPF.JEQ_K, dh, undefined, fail);
      a.ld(DATA.argLow(c.index)); a.jump(c.op === 'SCMP_CMP_GT' ? BPF.JGT_K : BPF.JGE_K, dl, undefined, fail);
      break;
    case 'SCMP_CMP_LT': case 'SCMP_CMP_LE':
      a.jump(BPF.JGE_K, dh, undefined, ok); a.jump(BPF.JEQ_K, dh, undefined, fail);
      a.ld(DATA.argLow(c.index)); a.jump(c.op === 'SCMP_CMP_LT' ? BPF.JGE_K : BPF.JGT_K, dl, fail, undefined);
      break;
  }
  a.place(ok);
}

/** The conditional rules of one syscall, entered with A = nr; every path ends in a RET. */
function syscallBlock(a: Assembler, rules: SyscallRules, fallback: Action): void {
  for (const rule of rules.conditional) {
    const fail = a.label('fail');
    for (const c of rule.conditions) condition(a, c, fail);
    a.ret(rule.action.ret);
    a.place(fail);
  }
  a.ret(fallback.ret);
}

/** All rules for one ABI, entered with A = nr. */
function archChain(a: Assembler, p: Profile, arch: Arch): void {
  const grouped = new Map<number, number[]>();
  const withArgs: [number, SyscallRules][] = [];
  for (const [name, rules] of p.syscalls) {
    const nr = syscallNumber(arch, name);
    if (nr === undefined) continue;
    if (rules.always) {
      const ret = rules.always.action.ret;
      grouped.set(ret, [...(grouped.get(ret) ?? []), nr]);
    } else withArgs.push([nr, rules]);
  }
  for (const [ret, nrs] of grouped) {
    for (let i = 0; i < nrs.length; i += CHUNK) {
      const hit = a.label('hit');
      const past = a.label('past');
      for (const nr of nrs.slice(i, i + CHUNK)) a.jump(BPF.JEQ_K, nr, hit, undefined);
      a.ja(past);
      a.place(hit);
      a.ret(ret);
      a.place(past);
    }
  }
  for (const [nr, rules] of withArgs) {
    const next = a.label('next');
    a.jump(BPF.JEQ_K, nr, undefined, next);
    syscallBlock(a, rules, p.defaultAction);
    a.place(next);
  }
  a.ret(p.defaultAction.ret);
}

export function compileProfile(p: Profile): Filter {
  const a = new Assembler();
  const foreign = a.label('foreign');
  // One block per seccomp_data.arch value: x86_64 and x32 share AUDIT_ARCH_X86_64.
  const audits = [...new Set(p.arches.map((x) => x.audit))];
  const blocks = audits.map((audit) => ({ audit, label: a.label('arch'), arches: p.arches.filter((x) => x.audit === audit) }));
  a.ld(DATA.arch);
  for (const b of blocks) a.jump(BPF.JEQ_K, b.audit, b.label, undefined);
  a.ja(foreign);
  for (const b of blocks) {
    a.place(b.label);
    a.ld(DATA.nr);
    const x32 = b.arches.find((x) => x.nrBase === X32_SYSCALL_BIT);
    const main = b.arches.find((x) => x.nrBase === 0);
    if (b.audit === AUDIT_ARCH_X86_64) {
      const x32Block = a.label('x32');
      a.jump(BPF.JGE_K, X32_SYSCALL_BIT, x32 ? x32Block : foreign, undefined);
      if (main) archChain(a, p, main); else a.ja(foreign);
      if (x32) { a.place(x32Block); archChain(a, p, x32); }
    } else {
      archChain(a, p, main!);
    }
  }
  a.place(foreign);
  a.ret(p.foreignAction.ret);
  const program = a.assemble();
  const instructions = program.length / 8;
  if (instructions > BPF_MAXINSNS) {
    throw new ConfigError('linux.seccomp', `the filter needs ${instructions} instructions, over the kernel's limit of ${BPF_MAXINSNS}`);
  }
  return { program, instructions };
}
