import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { Seccomp } from '../../../src/oci/types.js';
import { compileProfile } from '../../../src/seccomp/compile.js';
import { readProfile } from '../../../src/seccomp/profile.js';
import { podmanDefaultProfile } from '../../helpers/podman-seccomp.js';
import { runFilter } from './bpf-interpreter.js';

const X86_64 = 0xc000003e, I386 = 0x40000003, AARCH64 = 0xc00000b7;
const X32 = 0x40000000;
const ALLOW = 0x7fff0000, LOG = 0x7ffc0000, TRAP = 0x00030000, KILL_THREAD = 0, KILL_PROCESS = 0x80000000;
const errno = (e: number): number => 0x00050000 | e;
const trace = (d: number): number => 0x7ff00000 | d;
const NR = { read: 0, write: 1, mkdir: 83, mkdirat: 258, socket: 41, personality: 135, clone: 56, execve: 59, getpid: 39, setns: 308, kill: 62 };

const program = (sc: Seccomp): Buffer => compileProfile(readProfile(sc)).program;
const run = (p: Buffer, nr: number, args: bigint[] = [], arch = X86_64): number => runFilter(p, { nr, arch, args });
const configError = (sc: Seccomp): ConfigError => {
  try { program(sc); } catch (e) { if (e instanceof ConfigError) return e; throw e; }
  throw new Error('no ConfigError');
};

describe('seccomp compiler: actions', () => {
  it.each([
    ['SCMP_ACT_ALLOW', undefined, ALLOW], ['SCMP_ACT_LOG', undefined, LOG], ['SCMP_ACT_TRAP', undefined, TRAP],
    ['SCMP_ACT_KILL', undefined, KILL_THREAD], ['SCMP_ACT_KILL_THREAD', undefined, KILL_THREAD], ['SCMP_ACT_KILL_PROCESS', undefined, KILL_PROCESS],
    ['SCMP_ACT_ERRNO', undefined, errno(1)], ['SCMP_ACT_ERRNO', 13, errno(13)], ['SCMP_ACT_TRACE', 7, trace(7)],
  ] as const)('%s (errnoRet %s) as a rule and as the default', (action, errnoRet, ret) => {
    const asRule = program({ defaultAction: action === 'SCMP_ACT_ALLOW' ? 'SCMP_ACT_KILL_PROCESS' : 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action, ...(errnoRet !== undefined ? { errnoRet } : {}) }] });
    expect(run(asRule, NR.mkdir)).toBe(ret);
    const asDefault = program({ defaultAction: action, ...(errnoRet !== undefined ? { defaultErrnoRet: errnoRet } : {}), syscalls: [{ names: ['execve'], action: action === 'SCMP_ACT_ALLOW' ? 'SCMP_ACT_LOG' : 'SCMP_ACT_ALLOW' }] });
    expect(run(asDefault, NR.mkdir)).toBe(ret);
  });

  it('groups syscalls that share an action and leaves the rest to the default', () => {
    const p = program({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write', 'execve'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 28 }] });
    expect([NR.read, NR.write, NR.execve].map((n) => run(p, n))).toEqual([ALLOW, ALLOW, ALLOW]);
    expect(run(p, NR.mkdir)).toBe(errno(28));
    expect(run(p, NR.getpid)).toBe(errno(1));
    expect(run(p, 999)).toBe(errno(1));
  });

  it('follows libseccomp: the first unconditional rule of a syscall wins and replaces conditional ones', () => {
    const p = program({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 5, args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['setns', 'kill'], action: 'SCMP_ACT_ALLOW' },
      { names: ['setns'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    ] });
    expect(run(p, NR.setns)).toBe(ALLOW);
    expect(run(p, NR.kill, [1n, 9n])).toBe(ALLOW);
  });
});

describe('seccomp compiler: architectures', () => {
  const deny = (extra: Partial<Seccomp> = {}): Buffer => program({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }], ...extra });

  it('checks seccomp_data.arch first: an unlisted ABI gets the default action, or ENOSYS when the default would allow it', () => {
    expect(run(deny(), NR.mkdir)).toBe(errno(1));
    expect(run(deny(), NR.mkdir, [], I386)).toBe(errno(38)); // i386 mkdir (39) through int 0x80: no way around the rule
    expect(run(deny(), 39, [], AARCH64)).toBe(errno(38));
    const strict = program({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ALLOW' }] });
    expect(run(strict, 20, [], I386)).toBe(errno(1));
  });

  it('rejects x32 syscall numbers on x86_64 unless SCMP_ARCH_X32 is listed', () => {
    expect(run(deny(), X32 | NR.mkdir)).toBe(errno(38));
    expect(run(deny(), X32 | NR.getpid)).toBe(errno(38));
    const withX32 = deny({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X32'] });
    expect(run(withX32, X32 | NR.mkdir)).toBe(errno(1));
    expect(run(withX32, X32 | NR.getpid)).toBe(ALLOW);
    expect(run(withX32, NR.mkdir)).toBe(errno(1));
  });

  it('uses each listed architecture\'s own numbers', () => {
    const p = deny({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'] });
    expect(run(p, 39, [], I386)).toBe(errno(1)); // mkdir on i386
    expect(run(p, NR.getpid, [], X86_64)).toBe(ALLOW);
    expect(run(p, 20, [], I386)).toBe(ALLOW); // getpid on i386
    expect(run(p, 34, [], AARCH64)).toBe(errno(1)); // mkdirat on aarch64
    expect(run(p, 172, [], AARCH64)).toBe(ALLOW); // getpid on aarch64
  });

  it('accepts architectures it has no table for (their syscalls are foreign) and refuses unknown ones', () => {
    expect(run(deny({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_ARM'] }), NR.mkdir)).toBe(errno(1));
    expect(configError({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }).details.field).toBe('linux.seccomp.architectures[0]');
  });
});

describe('seccomp compiler: argument conditions', () => {
  const rule = (op: string, value: number, valueTwo?: number): Buffer => program({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value, ...(valueTwo !== undefined ? { valueTwo } : {}), op }] }],
  });
  const hit = (p: Buffer, arg: bigint): boolean => run(p, NR.kill, [0n, arg]) === errno(1);
  const big = 0x1_0000_0005; // a datum with both halves set
  const samples = [0n, 4n, 5n, 6n, 0xffff_ffffn, 0x1_0000_0000n, 0x1_0000_0004n, 0x1_0000_0005n, 0x1_0000_0006n, 0x2_0000_0000n, 0xffff_ffff_ffff_ffffn];

  it.each([
    ['SCMP_CMP_EQ', (a: bigint, d: bigint) => a === d], ['SCMP_CMP_NE', (a: bigint, d: bigint) => a !== d],
    ['SCMP_CMP_LT', (a: bigint, d: bigint) => a < d], ['SCMP_CMP_LE', (a: bigint, d: bigint) => a <= d],
    ['SCMP_CMP_GT', (a: bigint, d: bigint) => a > d], ['SCMP_CMP_GE', (a: bigint, d: bigint) => a >= d],
  ] as const)('%s compares all 64 bits (two 32-bit halves)', (op, holds) => {
    for (const d of [5, big]) {
      const p = rule(op, d);
      for (const a of samples) expect([op, d, a, hit(p, a)]).toEqual([op, d, a, holds(a, BigInt(d))]);
    }
  });

  it('SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo, on both halves', () => {
    const p = rule('SCMP_CMP_MASKED_EQ', 0x1_0000_00ff, 0x1_0000_0010);
    expect(hit(p, 0x1_0000_0010n)).toBe(true);
    expect(hit(p, 0xff_1234_5610n)).toBe(true);
    expect(hit(p, 0x0_0000_0010n)).toBe(false);
    expect(hit(p, 0x1_0000_0011n)).toBe(false);
  });

  it('ANDs the conditions of one rule and tries rules in order', () => {
    const p = program({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 3, args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }, { index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
      { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 4, args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] },
    ] });
    expect(run(p, NR.kill, [1n, 9n])).toBe(errno(3));
    expect(run(p, NR.kill, [2n, 9n])).toBe(errno(4));
    expect(run(p, NR.kill, [1n, 15n])).toBe(ALLOW);
  });

  it('refuses what it cannot compare, naming the field', () => {
    const bad = (arg: object): string | undefined => configError({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [arg as never] }] }).details.field;
    expect(bad({ index: 6, value: 1, op: 'SCMP_CMP_EQ' })).toBe('linux.seccomp.syscalls[0].args[0].index');
    expect(bad({ index: 0, value: 1, op: 'SCMP_CMP_XX' })).toBe('linux.seccomp.syscalls[0].args[0].op');
    expect(bad({ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' })).toBe('linux.seccomp.syscalls[0].args[0].value');
  });
});

describe('seccomp compiler: layout and limits', () => {
  it('reaches far targets through JA trampolines (conditional jumps have 8-bit offsets)', () => {
    // 70 argument rules per syscall make each syscall's block ~280 instructions: the jump past it
    // (and the arch checks' jumps past whole blocks) are beyond 255 and need a JA.
    const names = ['read', 'kill', 'personality'];
    const manyArgs = Array.from({ length: 70 }, (_, i) => ({ names, action: 'SCMP_ACT_ERRNO', errnoRet: 100 + i, args: [{ index: 0, value: i, op: 'SCMP_CMP_EQ' }] }));
    const sc: Seccomp = { defaultAction: 'SCMP_ACT_KILL_PROCESS', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls: [
      ...manyArgs, { names: ['chdir', 'fchdir'], action: 'SCMP_ACT_ALLOW' },
    ] };
    const p = program(sc);
    const ops = Array.from({ length: p.length / 8 }, (_, i) => p.readUInt16LE(i * 8));
    expect(ops.filter((o) => o === 0x05).length).toBeGreaterThan(6);
    for (const [i, n] of [[0, NR.read], [69, NR.personality], [35, NR.kill]] as const) {
      expect(run(p, n, [BigInt(i)])).toBe(errno(100 + i));
      expect(run(p, X32 | n, [BigInt(i)])).toBe(errno(100 + i));
    }
    expect(run(p, 136, [69n], I386)).toBe(errno(169)); // personality on i386
    expect(run(p, NR.read, [70n])).toBe(KILL_PROCESS);
    expect(run(p, 80)).toBe(ALLOW); // chdir
    expect(run(p, 12, [], I386)).toBe(ALLOW); // chdir on i386
  });

  it('splits a long chain of one action into chunks its jumps can reach', () => {
    const names = podmanDefaultProfile().syscalls!.find((r) => r.names.length > 300)!.names;
    expect(names.length).toBeGreaterThan(300);
    const p = program({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] });
    expect(run(p, NR.read)).toBe(ALLOW);
    expect(run(p, 435)).toBe(ALLOW); // clone3, near the end of the chain
    expect(run(p, 175)).toBe(errno(1)); // init_module: not in it
  });

  it('keeps podman\'s default profile (x86_64, x86, x32) far below BPF_MAXINSNS, with its meaning', () => {
    const profile = readProfile(podmanDefaultProfile());
    const { program: p, instructions } = compileProfile(profile);
    expect(instructions).toBeLessThan(2000);
    expect(profile.unknownNames).toEqual([]);
    for (const nr of [NR.read, NR.write, NR.execve, NR.mkdir, NR.clone, NR.setns]) expect(run(p, nr)).toBe(ALLOW);
    expect(run(p, 11, [], I386)).toBe(ALLOW); // execve on i386
    expect(run(p, X32 | 520)).toBe(ALLOW); // execve on x32
    expect(run(p, 175)).toBe(errno(1)); // init_module without CAP_SYS_MODULE
    expect(run(p, 999)).toBe(errno(38)); // unknown: the default, ENOSYS
    expect(run(p, NR.personality, [0n])).toBe(ALLOW);
    expect(run(p, NR.personality, [3n])).toBe(errno(38));
    expect(run(p, NR.socket, [16n, 3n, 9n])).toBe(errno(22)); // AF_NETLINK NETLINK_AUDIT without CAP_AUDIT_WRITE
    expect(run(p, NR.socket, [2n, 1n, 0n])).toBe(ALLOW);
    expect(run(p, 246)).toBe(errno(1)); // kexec_load: always refused
  });

  it('refuses a program over 4096 instructions', () => {
    const syscalls = Array.from({ length: 1000 }, (_, i) => ({ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: i, op: 'SCMP_CMP_EQ' }] }));
    const e = configError({ defaultAction: 'SCMP_ACT_ALLOW', syscalls });
    expect(e.details.field).toBe('linux.seccomp');
    expect(e.message).toMatch(/over the kernel's limit of 4096/);
  });
});

describe('seccomp profile: refusals and unknown names', () => {
  it.each([
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW' }, { names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.syscalls[1].action'],
    [{ defaultAction: 'SCMP_ACT_NOTIFY' }, 'linux.seccomp.defaultAction'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/x.sock' }, 'linux.seccomp.listenerPath'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC'] }, 'linux.seccomp.flags[1]'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }, 'linux.seccomp.syscalls[0].errnoRet'],
    [{ defaultAction: 'SCMP_ACT_BOGUS' }, 'linux.seccomp.defaultAction'],
  ] as [Seccomp, string][])('refuses %j naming %s', (sc, field) => {
    expect(configError(sc).details.field).toBe(field);
  });

  it('passes the flags it knows to seccomp(2)', () => {
    expect(readProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }).flags).toBe(6);
  });

  it('skips names no architecture has, as libseccomp does, and says which', () => {
    const profile = readProfile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'no_such_call', 'arm_fadvise64_64'], action: 'SCMP_ACT_ALLOW' }] });
    expect(profile.unknownNames).toEqual(['no_such_call']);
    expect([...profile.syscalls.keys()]).toEqual(['read', 'arm_fadvise64_64']);
  });
});
