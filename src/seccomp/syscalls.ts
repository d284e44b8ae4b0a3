// Syscall numbers by name for the architectures tsrun can filter, from the generated table (one
// string per arch, parsed on first use) — and how each OCI architecture shows up in seccomp_data.
import { X32_SYSCALL_BIT } from './constants.js';
import { SYSCALL_NAMES } from './syscall-table.js';

export type TableName = keyof typeof SYSCALL_NAMES;

export interface Arch {
  /** The OCI / libseccomp name. */
  name: string;
  /** seccomp_data.arch (AUDIT_ARCH_*). */
  audit: number;
  table: TableName;
  /** Added to every number of the table (x32 syscalls carry __X32_SYSCALL_BIT). */
  nrBase: number;
}

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const ARCHES: Record<string, Arch> = {
  SCMP_ARCH_X86_64: { name: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH_X86_64, table: 'x86_64', nrBase: 0 },
  SCMP_ARCH_X86: { name: 'SCMP_ARCH_X86', audit: 0x40000003, table: 'x86', nrBase: 0 },
  SCMP_ARCH_X32: { name: 'SCMP_ARCH_X32', audit: AUDIT_ARCH_X86_64, table: 'x32', nrBase: X32_SYSCALL_BIT },
  SCMP_ARCH_AARCH64: { name: 'SCMP_ARCH_AARCH64', audit: 0xc00000b7, table: 'aarch64', nrBase: 0 },
};

/** Architectures libseccomp knows but tsrun has no table for: accepted, their syscalls are foreign. */
export const OTHER_ARCHES = ['SCMP_ARCH_ARM', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'];

/**
 * Syscalls of architectures without a table here (ARM, s390, PowerPC, MIPS, RISC-V) that profiles
 * such as podman's list: known names, so skipping them on this host is normal and not worth a note.
 */
const OTHER_ARCH_NAMES = new Set(('arm_fadvise64_64 arm_sync_file_range breakpoint cacheflush set_tls sync_file_range2 '
  + 's390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr s390_guarded_storage s390_sthyi riscv_flush_icache '
  + 'riscv_hwprobe spu_create spu_run subpage_prot switch_endian sys_debug_setcontext usr26 usr32 sysmips '
  + 'pciconfig_iobase pciconfig_read pciconfig_write swapcontext recv send syscall timerfd').split(' '));

/** The architecture of the machine tsrun runs on: always filtered, as libseccomp always adds it. */
export function nativeArch(arch: string = process.arch): Arch | undefined {
  return arch === 'x64' ? ARCHES.SCMP_ARCH_X86_64 : arch === 'arm64' ? ARCHES.SCMP_ARCH_AARCH64 : undefined;
}

const parsed = new Map<TableName, Map<string, number>>();

function table(name: TableName): Map<string, number> {
  let t = parsed.get(name);
  if (!t) {
    t = new Map();
    let nr = 0;
    for (const word of SYSCALL_NAMES[name].split(' ')) {
      if (word.startsWith('+')) nr += Number(word.slice(1));
      else t.set(word, nr++);
    }
    parsed.set(name, t);
  }
  return t;
}

/** The number seccomp_data.nr holds for `name` on `arch`, or undefined when the arch lacks it. */
export function syscallNumber(arch: Arch, name: string): number | undefined {
  const nr = table(arch.table).get(name);
  return nr === undefined ? undefined : arch.nrBase + nr;
}

/** A name no architecture tsrun knows has (libseccomp would ignore it: so does tsrun, with a note). */
export function isUnknownName(name: string): boolean {
  return !OTHER_ARCH_NAMES.has(name) && !(Object.keys(SYSCALL_NAMES) as TableName[]).some((t) => table(t).has(name));
}

const reversed = new Map<TableName, Map<number, string>>();

/** The name of syscall `nr` (as seccomp_data.nr holds it) on `arch`, or undefined: for the disassembler. */
export function syscallName(arch: Arch, nr: number): string | undefined {
  let r = reversed.get(arch.table);
  if (!r) {
    r = new Map([...table(arch.table)].map(([name, n]) => [n, name]));
    reversed.set(arch.table, r);
  }
  return r.get(nr - arch.nrBase);
}
