// Numbers from the kernel's uapi headers: classic BPF opcodes (linux/filter.h, linux/bpf_common.h),
// seccomp return values and struct seccomp_data offsets (linux/seccomp.h), audit arch ids
// (linux/audit.h). A seccomp filter is a classic BPF program over struct seccomp_data.

/** Opcodes used by the compiler (class | size/op | source). */
export const BPF = {
  LD_W_ABS: 0x20, // A = *(u32 *)(seccomp_data + k)
  ALU_AND_K: 0x54, // A &= k
  JA: 0x05, // pc += k (32-bit offset: the only far jump)
  JEQ_K: 0x15, // pc += (A == k) ? jt : jf (8-bit offsets)
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

/** The kernel refuses longer programs (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

/** Offsets in struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }. */
export const DATA = { nr: 0, arch: 4, argLow: (i: number): number => 16 + 8 * i, argHigh: (i: number): number => 20 + 8 * i } as const;

export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const X32_SYSCALL_BIT = 0x40000000;

/** seccomp(2) SECCOMP_SET_MODE_FILTER flags tsrun passes through. */
export const FILTER_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

export const EPERM = 1;
export const ENOSYS = 38;
