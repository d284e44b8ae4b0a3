// Starting a container process inside its cgroup, so that even its first set-up step is accounted
// and limited there. clone3(CLONE_INTO_CGROUP) creates it in the cgroup (Linux 5.7+). The child is
// placed by pid instead, while it waits for the go-ahead, when: clone3 or that flag is missing or
// refused (an older kernel, a seccomp filter around tsrun); the cgroup is systemd's (its scope is
// made with the waiting process: cgroups/systemd); or the process joins a cgroup namespace of the
// container (the kernel refuses CLONE_INTO_CGROUP from outside it under nsdelegate). Every step still
// runs inside the cgroup, at the cost of the early start (the child must wait to be placed).
import { TsrunError } from '../errors.js';
import * as shim from '../native/shim.js';
import { startProcess, type ContainerProcess, type StartOptions } from './parent.js';
import { msSince } from '../host/clock.js';

/** What the strategy needs of a cgroup (cgroups/manager.ts's CgroupHandle has it). */
export interface CgroupTarget {
  readonly dir: string;
  /** clone3 can create the process inside (cgroupfs); false: placed by pid (systemd's scope). */
  readonly bornInside: boolean;
  /** An O_DIRECTORY fd of the cgroup for clone3; the caller closes it. */
  openDirFd(): number;
  /** Moves a waiting process in: a write to cgroup.procs, or systemd's StartTransientUnit job. */
  place(pid: number): void | Promise<void>;
}

export interface InCgroupOptions extends Omit<StartOptions, 'cgroupFd'> {
  /** None: the process stays in tsrun's cgroup (a host without cgroup v2). */
  cgroup?: CgroupTarget;
  /** Try clone3(CLONE_INTO_CGROUP) first; false goes straight to placement by pid (TSRUN_NO_CLONE3). */
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
  const { cgroup, clone3, warn, ...start } = opts;
  // No cgroup, or a warm init born in it already (create/warm.ts checked it is the container's).
  if (!cgroup || start.warm) return startProcess(plan, { ...start, cgroupFd: -1 });
  if (clone3 && cgroup.bornInside) {
    const fd = cgroup.openDirFd();
    try {
      return await startProcess(plan, { ...start, cgroupFd: fd });
    } catch (err) {
      if (!clone3Unsupported(err)) throw err;
      warn('clone3(CLONE_INTO_CGROUP) is not available: placing the container through cgroup.procs');
    } finally {
      shim.closeFd(fd);
    }
  }
  // The child must wait to be placed: no early start.
  return startProcess(plan, {
    ...start, cgroupFd: -1, early: false,
    beforeGo: async (pid) => {
      const t0 = process.hrtime.bigint();
      await cgroup.place(pid);
      start.trace.event({
        who: 'parent', group: 'cgroup', syscall: 'cgroups', title: cgroup.bornInside ? `write ${pid} to ${cgroup.dir}/cgroup.procs` : `place ${pid} in ${cgroup.dir}`,
        why: 'the process is moved into its cgroup while it waits for tsrun\'s go-ahead, so before its first step', result: 'ok', durationMs: msSince(t0),
      });
      await start.beforeGo?.(pid);
    },
  });
}
