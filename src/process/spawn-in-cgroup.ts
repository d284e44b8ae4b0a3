// Starting a container process inside its cgroup, so that even its first set-up step is accounted
// and limited there. clone3(CLONE_INTO_CGROUP) creates it in the cgroup (Linux 5.7+). Where clone3 or
// that flag is missing or refused (an older kernel, a seccomp filter around tsrun), the child is
// placed by writing its pid to cgroup.procs while it waits for the go-ahead: every step still runs
// inside the cgroup, at the cost of the early start (the child must wait to be placed).
import { TsrunError } from '../errors.js';
import * as shim from '../native/shim.js';
import { startProcess, type ContainerProcess, type StartOptions } from './parent.js';

/** What the strategy needs of a cgroup (cgroups/manager.ts's CgroupHandle has it). */
export interface CgroupTarget {
  /** An O_DIRECTORY fd of the cgroup for clone3; the caller closes it. */
  openDirFd(): number;
  addProcess(pid: number): void;
}

export interface InCgroupOptions extends Omit<StartOptions, 'cgroupFd'> {
  /** None: the process stays in tsrun's cgroup (a host without cgroup v2). */
  cgroup?: CgroupTarget;
  /** Try clone3(CLONE_INTO_CGROUP) first; false goes straight to cgroup.procs (TSRUN_NO_CLONE3). */
  clone3: boolean;
  /** Told when clone3 was refused and the process was placed through cgroup.procs. */
  warn: (message: string) => void;
}

/** clone3 or CLONE_INTO_CGROUP is missing (kernels before 5.7, or a seccomp filter refusing clone3). */
export function clone3Unsupported(err: unknown): boolean {
  const d = err instanceof TsrunError ? err.details : {};
  return d.syscall === 'clone3' && (d.errno === 'ENOSYS' || d.errno === 'E2BIG' || d.errno === 'EINVAL' || d.errno === 'EPERM');
}

export async function startInCgroup(plan: Parameters<typeof startProcess>[0], opts: InCgroupOptions): Promise<ContainerProcess> {
  const { cgroup, clone3: _clone3, warn: _warn, ...start } = opts;
  if (!cgroup) return startProcess(plan, { ...start, cgroupFd: -1 });
  if (opts.clone3) {
    const fd = cgroup.openDirFd();
    try {
      return await startProcess(plan, { ...start, cgroupFd: fd });
    } catch (err) {
      if (!clone3Unsupported(err)) throw err;
      opts.warn('clone3(CLONE_INTO_CGROUP) is not available: placing the container through cgroup.procs');
    } finally {
      shim.closeFd(fd);
    }
  }
  // The child must wait to be placed: no early start.
  return startProcess(plan, {
    ...start, cgroupFd: -1, early: false,
    beforeGo: (pid) => { cgroup.addProcess(pid); start.beforeGo?.(pid); },
  });
}
