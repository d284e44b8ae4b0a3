// A classic-BPF disassembler for seccomp filters (`tsrun explain --seccomp`): one line per instruction,
// with what it means for a learner: which field of struct seccomp_data is loaded, which syscall a
// number is on the architecture being checked, and what each return value does. The program is read
// as the kernel reads it (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k, little endian); a small
// forward pass tracks what the accumulator A holds so numbers can be named.
import { errnoName } from '../native/errno.js';
import { BPF, DATA, RET, X32_SYSCALL_BIT } from './constants.js';
import { ARCHES, syscallName, type Arch } from './syscalls.js';

export interface Instruction { code: number; jt: number; jf: number; k: number }

export function decodeProgram(program: Buffer): Instruction[] {
  const out: Instruction[] = [];
  for (let o = 0; o + 8 <= program.length; o += 8) {
    out.push({ code: program.readUInt16LE(o), jt: program.readUInt8(o + 2), jf: program.readUInt8(o + 3), k: program.readUInt32LE(o + 4) });
  }
  return out;
}

/** What the accumulator holds at an instruction, when every path there agrees. */
type Held =
  | { kind: 'arch' }
  | { kind: 'nr'; audit?: number }
  | { kind: 'arg'; index: number; half: 'low' | 'high' }
  | { kind: 'unknown' };
interface State { a: Held; audit?: number }

const same = (x: State, y: State): boolean => JSON.stringify(x) === JSON.stringify(y);
const UNKNOWN: State = { a: { kind: 'unknown' } };

const hex = (n: number, width = 0): string => '0x' + (n >>> 0).toString(16).padStart(width, '0');

/** The OCI action a return value stands for, and what the kernel then does. */
export function describeReturn(k: number): string {
  const action = (k & 0xffff0000) >>> 0;
  const data = k & 0xffff;
  switch (action) {
    case RET.ALLOW: return 'SCMP_ACT_ALLOW: the syscall runs';
    case RET.KILL_PROCESS: return 'SCMP_ACT_KILL_PROCESS: the whole process is killed (SIGSYS)';
    case RET.KILL_THREAD: return 'SCMP_ACT_KILL_THREAD: the calling thread is killed (SIGSYS)';
    case RET.TRAP: return 'SCMP_ACT_TRAP: the thread gets SIGSYS and may handle it';
    case RET.ERRNO: return `SCMP_ACT_ERRNO(${errnoName(data)}): the syscall fails with ${errnoName(data)} without running`;
    case RET.TRACE: return `SCMP_ACT_TRACE(${data}): a ptrace tracer decides`;
    case RET.LOG: return 'SCMP_ACT_LOG: the syscall runs and is logged';
    case 0x7fc00000: return 'SCMP_ACT_NOTIFY: a supervisor decides';
    default: return `unknown action ${hex(k, 8)}`;
  }
}

const AUDIT_NAMES = new Map<number, string>([
  [ARCHES.SCMP_ARCH_X86_64!.audit, 'AUDIT_ARCH_X86_64 (x86_64 and x32)'],
  [ARCHES.SCMP_ARCH_X86!.audit, 'AUDIT_ARCH_I386 (x86)'],
  [ARCHES.SCMP_ARCH_AARCH64!.audit, 'AUDIT_ARCH_AARCH64'],
]);

/** The architecture whose numbering `nr` belongs to, given the seccomp_data.arch value checked before. */
function archOf(audit: number | undefined, nr: number): Arch | undefined {
  if (audit === undefined) return undefined;
  const candidates = Object.values(ARCHES).filter((a) => a.audit === audit);
  return candidates.find((a) => (a.nrBase === X32_SYSCALL_BIT ? nr >= X32_SYSCALL_BIT : nr < X32_SYSCALL_BIT)) ?? candidates[0];
}

function loadMeaning(k: number): Held {
  if (k === DATA.nr) return { kind: 'nr' };
  if (k === DATA.arch) return { kind: 'arch' };
  if (k >= DATA.argLow(0) && k < DATA.argLow(6)) {
    const index = Math.floor((k - DATA.argLow(0)) / 8);
    return { kind: 'arg', index, half: (k - DATA.argLow(0)) % 8 === 0 ? 'low' : 'high' };
  }
  return { kind: 'unknown' };
}

function loadComment(a: Held, audit: number | undefined): string {
  switch (a.kind) {
    case 'nr': {
      const arch = archOf(audit, 0);
      return `A = seccomp_data.nr, the syscall number${arch ? ` (${arch.table} numbering)` : ''}`;
    }
    case 'arch': return 'A = seccomp_data.arch, the ABI the syscall came through';
    case 'arg': return `A = seccomp_data.args[${a.index}], ${a.half} 32 bits`;
    case 'unknown': return 'A = a word of seccomp_data';
  }
}

/** "mkdir", "an x32 syscall", "AUDIT_ARCH_X86_64": what the constant of a comparison stands for. */
function operand(op: number, k: number, s: State): string {
  if (s.a.kind === 'arch') return AUDIT_NAMES.get(k) ?? `arch ${hex(k)}`;
  if (s.a.kind === 'nr') {
    if (op === BPF.JGE_K && k === X32_SYSCALL_BIT) return 'an x32 syscall (nr ≥ 0x40000000)';
    const arch = archOf(s.audit, k);
    const name = arch && syscallName(arch, k);
    const nr = arch?.nrBase ? `x32 ${k - arch.nrBase}` : String(k);
    return name ? `${name} (${nr})` : `syscall ${nr}`;
  }
  return hex(k);
}

/** The question a conditional jump asks, in words. */
function question(op: number, k: number, s: State): string {
  const what = operand(op, k, s);
  if (op === BPF.JGE_K && s.a.kind === 'nr' && k === X32_SYSCALL_BIT) return what;
  const rel = { [BPF.JEQ_K]: '==', [BPF.JGT_K]: '>', [BPF.JGE_K]: '>=', [BPF.JSET_K]: '&' }[op]!;
  if (s.a.kind === 'arg') return `args[${s.a.index}] (${s.a.half} half) ${rel} ${what}`;
  return op === BPF.JEQ_K ? what : `A ${rel} ${what}`;
}

/** One line per instruction: `pc  mnemonic  meaning`. */
export function disassemble(program: Buffer): string[] {
  const insns = decodeProgram(program);
  const incoming: State[][] = insns.map(() => []);
  const lines: string[] = [];
  const flow = (to: number, s: State): void => { if (to < insns.length) incoming[to]!.push(s); };
  insns.forEach((ins, pc) => {
    const ins0 = incoming[pc]!;
    const s: State = pc === 0 ? UNKNOWN : ins0.length > 0 && ins0.every((x) => same(x, ins0[0]!)) ? ins0[0]! : ins0.length === 0 ? UNKNOWN : mergeAudit(ins0);
    const next = pc + 1;
    let text: string;
    let meaning: string;
    switch (ins.code) {
      case BPF.LD_W_ABS: {
        const a = loadMeaning(ins.k);
        text = `ld   [${ins.k}]`;
        meaning = loadComment(a, s.audit);
        flow(next, { a, ...(s.audit !== undefined ? { audit: s.audit } : {}) });
        break;
      }
      case BPF.ALU_AND_K:
        text = `and  #${hex(ins.k)}`;
        meaning = `A &= ${hex(ins.k)}`;
        flow(next, { ...s, a: { kind: 'unknown' } });
        break;
      case BPF.JA:
        text = `ja   ${next + ins.k}`;
        meaning = `goto ${next + ins.k}`;
        flow(next + ins.k, s);
        break;
      case BPF.JEQ_K: case BPF.JGT_K: case BPF.JGE_K: case BPF.JSET_K: {
        const name = { [BPF.JEQ_K]: 'jeq', [BPF.JGT_K]: 'jgt', [BPF.JGE_K]: 'jge', [BPF.JSET_K]: 'jset' }[ins.code]!;
        const [t, f] = [next + ins.jt, next + ins.jf];
        text = `${name.padEnd(4)} #${ins.k >= 1024 ? hex(ins.k) : ins.k}`.padEnd(19) + ` jt ${t} jf ${f}`;
        meaning = `${question(ins.code, ins.k, s)}? yes: ${t}, no: ${f}`;
        // A comparison of the arch tells the true branch which numbering the syscall uses.
        const onTrue = s.a.kind === 'arch' && ins.code === BPF.JEQ_K ? { ...s, audit: ins.k } : s;
        flow(t, onTrue);
        flow(f, s);
        break;
      }
      case BPF.RET_K:
        text = `ret  #${hex(ins.k, 8)}`;
        meaning = describeReturn(ins.k);
        break;
      default:
        text = `.word ${hex(ins.code, 4)} ${ins.jt} ${ins.jf} ${hex(ins.k, 8)}`;
        meaning = 'an opcode tsrun never emits';
    }
    lines.push(`${String(pc).padStart(5)}  ${text.padEnd(32)}  ${meaning}`);
  });
  return lines;
}

/** Paths that disagree on A lose it; they keep the arch only when all agree on it. */
function mergeAudit(states: State[]): State {
  const audits = new Set(states.map((s) => s.audit));
  const a = states.every((s) => same({ a: s.a }, { a: states[0]!.a })) ? states[0]!.a : { kind: 'unknown' as const };
  return audits.size === 1 && states[0]!.audit !== undefined ? { a, audit: states[0]!.audit } : { a };
}
