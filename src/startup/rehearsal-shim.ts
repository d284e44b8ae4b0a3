// A stand-in for libtsrun-shim.so that plays the kernel's part of a `run` without making a process:
// clone returns a pid that does not exist, the container reports that it waits for its start and
// then that it exec'd, and it exits 0. The snapshot warm-up (src/startup/warm-up.ts) runs the
// real `run` code against it so that V8 compiles that code at build time, without root.
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { REPORT } from '../native/ops.js';
import type { KoffiFunction, ShimFunctions } from '../native/shim.js';

/** Above any pid_max: a stray kill() of it fails with ESRCH instead of hitting a real process. */
const REHEARSAL_PID = 2 ** 31 - 1;
/** Not an fd: the sync socket exists only in this script. */
const SYNC_FD = -2;

function notRehearsed(name: string): KoffiFunction {
  const fail = (): never => { throw new Error(`rehearsal shim: ${name} is not part of the rehearsed run`); };
  return Object.assign(fail, { async: fail, info: undefined as unknown as KoffiFunction['info'] });
}

/**
 * An asynchronous binding that answers `rc` later, as a worker would: in a microtask, since nothing
 * in the rehearsal may use Node's timers or immediates (see src/startup/warm-up.ts).
 */
function answersLater(rc: number): KoffiFunction {
  const call = (): number => rc;
  const async = (...args: unknown[]): void => {
    const done = args[args.length - 1] as (err: unknown, rc: number) => void;
    queueMicrotask(() => done(null, rc));
  };
  return Object.assign(call, { async, info: undefined as unknown as KoffiFunction['info'] });
}

export function rehearsalShim(): ShimFunctions {
  // What the sync socket delivers: the container waits at its start gate, then EOF (it exec'd).
  const reports = [REPORT.WAITING];
  return {
    spawn: (_plan, _len, _cgroupFd, _init, _flags, out) => {
      Object.assign(out, { pid: REHEARSAL_PID, sync_fd: SYNC_FD, err: 0, step: -1, what: '', two_stage: 0, clone3: 1, init_kind: 1 });
      return 0;
    },
    recvReportWithin: (_fd, _timeout, out) => {
      const kind = reports.shift();
      if (kind === undefined) return 0;
      Object.assign(out, { kind, step: 0, err: 0, value: 0, start_ns: 0n, end_ns: 0n, syscall: '' });
      return 1;
    },
    recvReport: notRehearsed('recvReport'),
    // The CLI never keeps a warm init (the library does): none of these runs in a rehearsal.
    spawnWarm: notRehearsed('spawnWarm'),
    warmAhead: notRehearsed('warmAhead'),
    threadId: notRehearsed('threadId'),
    sendPlan: notRehearsed('sendPlan'),
    mountsChanged: notRehearsed('mountsChanged'),
    sendByte: () => 1,
    // A failed rehearsal reaps its "child" on the way out: there is none.
    wait: answersLater(-constants.errno.ECHILD),
    // Exited with 0 by the first look (waitChild then arms no timer).
    waitNohang: (pid, status) => {
      status[0] = 0;
      return pid;
    },
    close: (fd) => {
      if (fd !== SYNC_FD) closeSync(fd); // the cgroup's directory fd is real
      return 0;
    },
    // The caller closes the program's fd with fs.closeSync: hand it a real one.
    bpfProgLoad: () => openSync('/dev/null', 'r'),
    bpfProgAttach: () => 0,
    bpfProgQuery: () => 0,
    bpfProgFdById: () => -constants.errno.ENOENT,
    setWinsize: notRehearsed('setWinsize'),
    sendFd: notRehearsed('sendFd'),
    exitNow: notRehearsed('exitNow'),
    mkfifo: notRehearsed('mkfifo'),
    // Replacing a state file: the plain rename then (atomic-file.ts falls back to it).
    renameExchange: () => -constants.errno.ENOSYS,
    renameNoReplace: () => -constants.errno.ENOSYS,
    pipe: notRehearsed('pipe'),
    memfd: notRehearsed('memfd'),
    pidfdOpen: () => -constants.errno.ESRCH,
    pollReadable: notRehearsed('pollReadable'),
    pidfdSendSignal: () => -constants.errno.ESRCH,
    flock: notRehearsed('flock') as ShimFunctions['flock'],
    ttyMakeRaw: notRehearsed('ttyMakeRaw'),
    ttyRestore: () => 0,
    umountMount: () => -constants.errno.ENOENT,
  };
}
