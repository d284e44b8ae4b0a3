// bpf(2) through libc's syscall(), via koffi: just the commands the cgroup driver needs (load a
// CGROUP_DEVICE program, attach/detach it to a cgroup, list what is attached). glibc has no bpf()
// wrapper, hence syscall(SYS_bpf, cmd, attr, size). The attr unions are laid out by hand from
// include/uapi/linux/bpf.h; trailing bytes stay zero, which the kernel requires of fields it knows.
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { errnoName } from './errno.js';
import { loadKoffi } from './koffi.js';

const SYS_BPF: Partial<Record<string, number>> = { x64: 321, arm64: 280, riscv64: 280, ppc64: 361, s390x: 351 };

export const BPF_PROG_LOAD = 5;
export const BPF_PROG_ATTACH = 8;
export const BPF_PROG_DETACH = 9;
export const BPF_PROG_GET_FD_BY_ID = 13;
export const BPF_PROG_QUERY = 16;
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
/** Lets several programs sit on one cgroup (and on its ancestors), all of which must allow an access. */
export const BPF_F_ALLOW_MULTI = 2;

/** A failed bpf(2) call, with the errno name (`EPERM`) and, for loads, the verifier's log. */
export class BpfError extends Error {
  override name = 'BpfError';
  constructor(
    readonly command: string,
    readonly errno: string,
    readonly verifierLog?: string,
  ) {
    super(`bpf(${command}) failed: ${errno}${verifierLog ? `\n${verifierLog}` : ''}`);
  }
}

type SyscallFn = (nr: number, ...typedArgs: unknown[]) => number;
let syscallFn: SyscallFn | undefined;

function sys(): SyscallFn {
  if (syscallFn === undefined) {
    const libc = loadKoffi().load('libc.so.6');
    syscallFn = libc.func('long syscall(long number, ...)') as SyscallFn;
  }
  return syscallFn;
}


function bpf(cmd: number, name: string, attr: Buffer, log?: () => string): number {
  const nr = SYS_BPF[process.arch];
  if (nr === undefined) throw new BpfError(name, `unsupported architecture ${process.arch}`);
  // The verifier gives up with EAGAIN when a signal arrives while it works (a profiler's SIGPROF,
  // a forwarded signal): the load is simply retried, as libbpf does.
  for (let attempt = 1; ; attempt++) {
    const ret = sys()(nr, 'int', cmd, 'void *', attr, 'unsigned int', attr.length);
    if (ret >= 0) return ret;
    const code = loadKoffi().errno();
    if (cmd === BPF_PROG_LOAD && code === constants.errno.EAGAIN && attempt < 5) continue;
    throw new BpfError(name, errnoName(code), log?.());
  }
}

/** Native memory that does not move, for the pointers inside bpf_attr. Freed by the caller. */
function pinned(bytes: Buffer): { ptr: unknown; address: bigint } {
  const ptr = loadKoffi().alloc('uint8_t', Math.max(bytes.length, 1));
  new Uint8Array(loadKoffi().view(ptr, bytes.length)).set(bytes);
  return { ptr, address: loadKoffi().address(ptr) };
}

const LOG_SIZE = 64 * 1024;

/**
 * Loads a CGROUP_DEVICE program (8-byte instructions) and returns its fd. The first try runs without a
 * verifier log (cheaper); if the kernel refuses the program, it is loaded again with the log so the
 * error says why.
 */
export function loadDeviceProgram(instructions: Buffer, license = 'Apache-2.0'): number {
  const insns = pinned(instructions);
  const lic = pinned(Buffer.from(`${license}\0`));
  const log = pinned(Buffer.alloc(LOG_SIZE));
  try {
    const attr = (logLevel: number): Buffer => {
      const a = Buffer.alloc(128);
      a.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0); // prog_type
      a.writeUInt32LE(instructions.length / 8, 4); // insn_cnt
      a.writeBigUInt64LE(insns.address, 8); // insns
      a.writeBigUInt64LE(lic.address, 16); // license
      if (logLevel > 0) {
        a.writeUInt32LE(logLevel, 24); // log_level
        a.writeUInt32LE(LOG_SIZE, 28); // log_size
        a.writeBigUInt64LE(log.address, 32); // log_buf
      }
      a.write('tsrun_devices', 48, 'latin1'); // prog_name[16], shown by bpftool
      a.writeUInt32LE(BPF_CGROUP_DEVICE, 68); // expected_attach_type
      return a;
    };
    try {
      return bpf(BPF_PROG_LOAD, 'BPF_PROG_LOAD', attr(0));
    } catch (err) {
      if (!(err instanceof BpfError) || err.errno !== 'EINVAL' && err.errno !== 'EACCES') throw err;
      return bpf(BPF_PROG_LOAD, 'BPF_PROG_LOAD', attr(1), () => {
        const text = Buffer.from(loadKoffi().view(log.ptr, LOG_SIZE));
        const end = text.indexOf(0);
        return text.subarray(0, end < 0 ? LOG_SIZE : end).toString('utf8').trim();
      });
    }
  } finally {
    for (const p of [insns, lic, log]) loadKoffi().free(p.ptr);
  }
}

function attachAttr(cgroupFd: number, progFd: number, flags: number): Buffer {
  const a = Buffer.alloc(32);
  a.writeUInt32LE(cgroupFd, 0); // target_fd
  a.writeUInt32LE(progFd, 4); // attach_bpf_fd
  a.writeUInt32LE(BPF_CGROUP_DEVICE, 8); // attach_type
  a.writeUInt32LE(flags, 12); // attach_flags
  return a;
}

export function attachDeviceProgram(cgroupFd: number, progFd: number, flags = BPF_F_ALLOW_MULTI): void {
  bpf(BPF_PROG_ATTACH, 'BPF_PROG_ATTACH', attachAttr(cgroupFd, progFd, flags));
}

export function detachDeviceProgram(cgroupFd: number, progFd: number): void {
  bpf(BPF_PROG_DETACH, 'BPF_PROG_DETACH', attachAttr(cgroupFd, progFd, 0));
}

/** Ids of the device programs attached directly to a cgroup (not inherited ones). */
export function queryDevicePrograms(cgroupFd: number): number[] {
  const max = 64;
  const ids = pinned(Buffer.alloc(max * 4));
  try {
    const a = Buffer.alloc(40);
    a.writeUInt32LE(cgroupFd, 0); // target_fd
    a.writeUInt32LE(BPF_CGROUP_DEVICE, 4); // attach_type
    a.writeBigUInt64LE(ids.address, 16); // prog_ids
    a.writeUInt32LE(max, 24); // prog_cnt (in: room, out: count)
    bpf(BPF_PROG_QUERY, 'BPF_PROG_QUERY', a);
    const count = a.readUInt32LE(24);
    const out = Buffer.from(loadKoffi().view(ids.ptr, max * 4));
    return Array.from({ length: Math.min(count, max) }, (_, i) => out.readUInt32LE(i * 4));
  } finally {
    loadKoffi().free(ids.ptr);
  }
}

/** An fd for an already-loaded program, from its id (as BPF_PROG_QUERY lists them), e.g. to detach it. */
export function programFdById(id: number): number {
  const a = Buffer.alloc(16);
  a.writeUInt32LE(id, 0); // prog_id
  return bpf(BPF_PROG_GET_FD_BY_ID, 'BPF_PROG_GET_FD_BY_ID', a);
}

/** Loads the program, attaches it to the cgroup behind cgroupFd, and drops our fd (the attachment keeps it). */
export function installDeviceProgram(cgroupFd: number, instructions: Buffer): void {
  const progFd = loadDeviceProgram(instructions);
  try {
    attachDeviceProgram(cgroupFd, progFd);
  } finally {
    closeSync(progFd);
  }
}
