// The disassembler behind `tsrun explain --seccomp`: every instruction on one line, syscall numbers named
// on the architecture the filter checked, and the return each named syscall leads to is the one the
// interpreter (which runs the program as the kernel would) computes.
import { describe, expect, it } from 'vitest';
import { compileProfile } from '../../../src/seccomp/compile.js';
import { describeReturn, disassemble } from '../../../src/seccomp/disasm.js';
import { readProfile } from '../../../src/seccomp/profile.js';
import { ARCHES, syscallNumber } from '../../../src/seccomp/syscalls.js';
import type { Seccomp } from '../../../src/oci/types.js';
import { runFilter } from './bpf-interpreter.js';

const profile: Seccomp = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    { names: ['unshare'], action: 'SCMP_ACT_KILL_PROCESS' },
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_NE' }] },
  ],
};
const program = compileProfile(readProfile(profile)).program;
const lines = disassemble(program);

/** The instruction a line jumps to when its question is answered yes. */
const yesTarget = (line: string): number => Number(/yes: (\d+)/.exec(line)![1]);

describe('disassemble', () => {
  it('prints one numbered line per instruction', () => {
    expect(lines).toHaveLength(program.length / 8);
    lines.forEach((l, pc) => expect(l).toMatch(new RegExp(`^ +${pc}  (ld|and|ja|jeq|jgt|jge|jset|ret) `)));
  });

  it('names the loads of seccomp_data and the architecture checks', () => {
    expect(lines[0]).toMatch(/ld +\[4\] +A = seccomp_data\.arch/);
    expect(lines.some((l) => /jeq +#0xc000003e .*AUDIT_ARCH_X86_64/.test(l))).toBe(true);
    expect(lines.some((l) => /jeq +#0x40000003 .*AUDIT_ARCH_I386/.test(l))).toBe(true);
    expect(lines.some((l) => /ld +\[0\] +A = seccomp_data\.nr, the syscall number \(x86_64 numbering\)/.test(l))).toBe(true);
    expect(lines.some((l) => /ld +\[20\] +A = seccomp_data\.args\[0\], high 32 bits/.test(l))).toBe(true);
  });

  it('names each syscall number by the numbering of the arch checked before it, and the yes branch returns what the kernel would', () => {
    for (const [arch, name] of [['SCMP_ARCH_X86_64', 'mkdir'], ['SCMP_ARCH_X86', 'mkdir'], ['SCMP_ARCH_X32', 'mkdir'], ['SCMP_ARCH_X86_64', 'unshare']] as const) {
      const a = ARCHES[arch]!;
      const nr = syscallNumber(a, name)!;
      const shown = a.nrBase ? `x32 ${nr - a.nrBase}` : String(nr);
      const line = lines.find((l) => l.includes(`${name} (${shown})?`));
      expect(line, `${name} on ${arch}`).toBeDefined();
      const ret = runFilter(program, { nr, arch: a.audit });
      expect(lines[yesTarget(line!)]).toContain(`ret  #0x${ret.toString(16).padStart(8, '0')}`);
    }
    expect(lines.find((l) => l.includes('mkdir (83)?'))).toBeDefined();
    expect(lines.find((l) => l.includes('mkdir (39)?'))).toBeDefined();
  });

  it('says what an argument comparison compares', () => {
    expect(lines.some((l) => /args\[0\] \(low half\) == 0x8\? yes/.test(l))).toBe(true);
  });
});

describe('describeReturn', () => {
  it('names the OCI action and what the kernel does', () => {
    expect(describeReturn(0x7fff0000)).toBe('SCMP_ACT_ALLOW: the syscall runs');
    expect(describeReturn(0x00050001)).toMatch(/^SCMP_ACT_ERRNO\(EPERM\): the syscall fails with EPERM/);
    expect(describeReturn(0x80000000)).toMatch(/^SCMP_ACT_KILL_PROCESS/);
    expect(describeReturn(0x00000000)).toMatch(/^SCMP_ACT_KILL_THREAD/);
    expect(describeReturn(0x00030000)).toMatch(/^SCMP_ACT_TRAP/);
    expect(describeReturn(0x7ffc0000)).toMatch(/^SCMP_ACT_LOG/);
    expect(describeReturn(0x7ff00005)).toMatch(/^SCMP_ACT_TRACE\(5\)/);
  });
});
