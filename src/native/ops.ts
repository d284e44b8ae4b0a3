// Wire numbers shared with native-bindings/shim.h. Keep both in sync (test/unit/native checks it).

export const PLAN_MAGIC = 0x4e525354; // "TSRN"
export const PLAN_VERSION = 2;
/** At most this many fds of tsrun's a plan may pass on (TSRUN_MAX_PASS_FDS). */
export const MAX_PASS_FDS = 16;

export const PLAN_FLAG = { WAIT_GO: 1, TRACE: 2, PDEATHSIG: 4, DUMPABLE_UNTIL_GO: 8 } as const;
export const STEP_FLAG = { IN_ROOT: 1, OPTIONAL: 2, KEEP_LOCKED: 4, EXIST_OK: 8, NO_SYMLINKS: 16, NOT_ON_PROCFS: 32, BEFORE_CLONE: 64 } as const;

export const OP = {
  mount: 1, umount: 2, openRoot: 3, mkdir: 4, mknod: 5, symlink: 6, chdir: 7, pivotRoot: 8,
  chroot: 9, sethostname: 10, setdomainname: 11, writeFile: 12, setrlimit: 13, prctl: 14,
  bounding: 15, capset: 16, ambient: 17, setgroups: 18, setresgid: 19, setresuid: 20, mask: 21,
  console: 22, setsid: 23, umask: 24, exec: 25, chown: 26, waitParent: 27, setns: 28, chmod: 29,
  openKeep: 30, waitRead: 31, stdinFrom: 32, checkExec: 33, newKeyring: 34, seccomp: 35, unshare: 36, dupFd: 37,
  reopenDevNull: 38, fchdir: 39, loopbackUp: 40, chownBeneath: 41, removeTree: 42, exit: 43, setxattrBeneath: 44,
} as const;

/** AHEAD_DONE is read by the shim itself (tsrun_warm_ahead, on a worker thread), never by this code. */
export const REPORT = { STEP_OK: 1, STEP_FAILED: 2, FD: 3, PID: 4, EXEC: 5, SKIPPED: 6, WAITING: 7, AHEAD_DONE: 8 } as const;
