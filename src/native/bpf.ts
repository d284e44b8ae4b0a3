// bpf(2), just the commands the cgroup driver needs: load a CGROUP_DEVICE program, attach/detach it
// to a cgroup, list what is attached. glibc has no bpf() wrapper, so the shim (native-bindings/shim.c)
// fills in union bpf_attr from plain arguments: no native memory to pin for the pointers inside it.
import { constants } from 'node:os';
import { errnoName } from './errno.js';
import { bpfCalls, closeFd } from './shim.js';

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

function check(name: string, rc: number, log?: () => string): number {
  if (rc >= 0) return rc;
  throw new BpfError(name, errnoName(-rc), log?.());
}

const LOG_SIZE = 64 * 1024;

/**
 * Loads a CGROUP_DEVICE program (8-byte instructions) and returns its fd. The first try runs without a
 * verifier log (cheaper); if the kernel refuses the program, it is loaded again with the log so the
 * error says why.
 */
export function loadDeviceProgram(instructions: Buffer, license = 'Apache-2.0'): number {
  const load = (log: Buffer | null): number => {
    // The verifier gives up with EAGAIN when a signal is pending while it works (a profiler's SIGPROF,
    // SIGCHLDs of 50 containers started at once from one process): the shim blocks signals on its
    // thread during the load (tsrun_bpf_prog_load), and the load is still retried, as libbpf does.
    for (let attempt = 1; ; attempt++) {
      const rc = bpfCalls.progLoad(BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE, instructions, license, 'tsrun_devices', log);
      if (rc !== -constants.errno.EAGAIN || attempt >= 50) return rc;
    }
  };
  const rc = load(null);
  if (rc >= 0 || (rc !== -constants.errno.EINVAL && rc !== -constants.errno.EACCES)) return check('BPF_PROG_LOAD', rc);
  const log = Buffer.alloc(LOG_SIZE);
  return check('BPF_PROG_LOAD', load(log), () => {
    const end = log.indexOf(0);
    return log.subarray(0, end < 0 ? LOG_SIZE : end).toString('utf8').trim();
  });
}

/**
 * Closes an fd that bpf(2) gave (a program): with close(2) itself, not fs.closeSync, which in a worker
 * thread warns about an fd libuv did not open.
 */
export function closeProgramFd(fd: number): void {
  closeFd(fd);
}

export function attachDeviceProgram(cgroupFd: number, progFd: number, flags = BPF_F_ALLOW_MULTI): void {
  check('BPF_PROG_ATTACH', bpfCalls.progAttach(true, cgroupFd, progFd, BPF_CGROUP_DEVICE, flags));
}

export function detachDeviceProgram(cgroupFd: number, progFd: number): void {
  check('BPF_PROG_DETACH', bpfCalls.progAttach(false, cgroupFd, progFd, BPF_CGROUP_DEVICE, 0));
}

/** Ids of the device programs attached directly to a cgroup (not inherited ones). */
export function queryDevicePrograms(cgroupFd: number): number[] {
  const ids = new Uint32Array(64);
  const count = check('BPF_PROG_QUERY', bpfCalls.progQuery(cgroupFd, BPF_CGROUP_DEVICE, ids));
  return [...ids.subarray(0, Math.min(count, ids.length))];
}

/** An fd for an already-loaded program, from its id (as BPF_PROG_QUERY lists them), e.g. to detach it. */
export function programFdById(id: number): number {
  return check('BPF_PROG_GET_FD_BY_ID', bpfCalls.progFdById(id));
}
