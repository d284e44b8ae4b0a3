// The step plan: what the container's first process does between clone() and execve(), as data —
// the vocabulary tsrun-init (native-bindings/shim.c) understands. Built by pure planners
// (namespaces/, rootfs/, process/) that plan/ composes, printed by `tsrun explain`, encoded by
// native/encode-plan.ts. Each step carries *why* it exists and which config field asked for it, so
// errors and the --trace output can name both.
import type { IdMapping, NamespaceType } from './namespaces.js';

export type StepOp =
  | { op: 'mount'; source: string; target: string; fstype: string; data: string; flags: number;
      mkdir?: 'dir' | 'file'; inRoot?: boolean; keepLocked?: boolean; optional?: boolean;
      /** The target must be a directory reached without following any symlink of the rootfs. */
      noSymlinks?: boolean;
      /** The target, once resolved inside the rootfs, must not lie on procfs. */
      notOnProcfs?: boolean }
  | { op: 'umount'; target: string; flags: number }
  | { op: 'openRoot'; path: string }
  | { op: 'mkdir'; path: string; mode: number; inRoot?: boolean; existOk?: boolean }
  | { op: 'mknod'; path: string; type: 'c' | 'b' | 'p'; mode: number; major: number; minor: number; uid: number; gid: number }
  | { op: 'symlink'; target: string; linkpath: string }
  | { op: 'chdir'; path: string }
  | { op: 'pivotRoot'; newRoot: string; putOld: string }
  | { op: 'chroot'; path: string }
  | { op: 'sethostname'; name: string }
  | { op: 'setdomainname'; name: string }
  | { op: 'writeFile'; path: string; content: string }
  | { op: 'setrlimit'; resource: number; name: string; soft: bigint; hard: bigint }
  | { op: 'prctl'; option: number; name: string; args: number[] }
  | { op: 'bounding'; keep: bigint; keepNames: string[] }
  | { op: 'capset'; effective: bigint; permitted: bigint; inheritable: bigint }
  | { op: 'ambient'; raise: bigint; names: string[] }
  | { op: 'setgroups'; gids: number[] }
  | { op: 'setresgid'; gid: number }
  | { op: 'setresuid'; uid: number }
  | { op: 'mask'; path: string }
  | { op: 'reopenDevNull' }
  | { op: 'fchdir'; slot: number }
  | { op: 'console'; rows: number; cols: number; uid: number; gid: number }
  | { op: 'setsid' }
  | { op: 'umask'; mask: number }
  | { op: 'exec'; args: string[]; env: string[]; /** program to run when not args[0] (hooks) */ path?: string }
  | { op: 'chown'; path: string; uid: number; gid: number; inRoot?: boolean }
  | { op: 'chmod'; path: string; mode: number; inRoot?: boolean }
  | { op: 'waitParent' }
  | { op: 'openKeep'; path: string; flags: number; slot: number }
  | { op: 'waitRead'; slot: number }
  | { op: 'stdinFrom'; fd: number; path: string }
  | { op: 'dupFd'; fd: number; /** 0, 1 or 2 */ target: number }
  | { op: 'checkExec'; args: string[]; env: string[] }
  | { op: 'newKeyring'; name: string }
  | { op: 'setns'; path: string; nstype: number; type: NamespaceType }
  | { op: 'unshare'; /** CLONE_NEW* flags */ flags: number; names: string[] }
  /**
   * File work beneath the openRoot directory, in a user namespace whose maps give the ids (an image
   * layer's owners shifted into a user's subordinate range): lchown, then chmod unless mode is -1
   * (a chown clears setuid/setgid). The kernel resolves the path beneath it: no symlink, no `..` out.
   */
  | { op: 'chownBeneath'; path: string; uid: number; gid: number; mode: number }
  /** setxattr beneath the openRoot directory, never on a symlink (file capabilities, after the chown that clears them). */
  | { op: 'setxattrBeneath'; path: string; name: string; /** the value, base64 (plain data for JSON) */ value: string }
  /** rm -rf beneath the openRoot directory, by directory fds: no symlink followed, no mount crossed. */
  | { op: 'removeTree'; path: string }
  /** The end of a plan that only does file work: _exit(status) instead of execve. */
  | { op: 'exit'; status: number }
  /** `lo` of the container's new network namespace up (the kernel makes it down); ioctl(SIOCSIFFLAGS). */
  | { op: 'loopbackUp' }
  | { op: 'seccomp'; /** seccomp(2) flags */ flags: number; /** struct sock_filter[], base64 (plain data for explain --log-format json) */ program: string;
      instructions: number; /** syscall names with a rule on this machine's ABI */ syscalls: number; defaultAction: string };

export type Step = StepOp & {
  /** One line for a learner: why a runtime does this. */
  why: string;
  /** The config field that produced the step (`mounts[2]`, `process.rlimits[0]`), if any. */
  field?: string;
  /**
   * Run by tsrun-init's first stage before it clones the container process, which skips it (a new time
   * namespace: its offsets must be written while no process is in it). Makes the spawn two-stage.
   */
  beforeClone?: boolean;
};

export interface NamespacePlan {
  type: NamespaceType;
  /** The CLONE_NEW* flag. */
  flag: number;
  /** Created by clone(), or joined with setns() from `path`. */
  action: 'create' | 'join';
  path?: string;
}

export interface IdMapPlan {
  uid: IdMapping[];
  gid: IdMapping[];
  /** Written to /proc/PID/setgroups before gid_map ('deny' is required for unprivileged maps). */
  setgroups: 'allow' | 'deny';
  /**
   * Who writes the maps. `privileged`: tsrun as root. `own-id`: tsrun as a user, mapping only its own
   * uid and gid (the kernel allows that one line without privilege). `helper`: newuidmap/newgidmap
   * (setuid, from the uidmap package), for the user's subordinate ids in /etc/subuid and /etc/subgid.
   */
  writer: 'privileged' | 'own-id' | 'helper';
}

export interface Plan {
  namespaces: NamespacePlan[];
  /** OR of CLONE_NEW* for namespaces to create. */
  cloneFlags: number;
  /** Written by the parent into /proc/PID/{uid,gid}_map while the child waits. */
  idMaps?: IdMapPlan;
  /** The child waits for the parent's go-ahead (after maps and cgroup) before its first step. */
  waitForParent: boolean;
  /**
   * tsrun (as a user) enters the child's namespaces before the go-ahead: it stays dumpable until
   * then, as with `own-id` maps (network/connect.ts, namespaceFds: a user-mode network's helper).
   */
  enteredBeforeGo?: boolean;
  /** Kill the child if tsrun dies during set-up (foreground `run`). */
  dieWithParent: boolean;
  /** fds 3 .. 3+N-1 are passed to the container (LISTEN_FDS / --preserve-fds). */
  preserveFds: number;
  /**
   * fds of tsrun's that the steps use (a hook's state file, the init's root for `exec`): passed
   * through the exec of tsrun-init, closed when the container's program execs. Every other fd of
   * tsrun's is closed before the first step.
   */
  passFds?: number[];
  steps: Step[];
  /**
   * The steps [from, to) that a warm init may run before its container is asked for (the phases
   * plan/phases.ts calls AHEAD): they depend on neither the container's id nor the fds. Absent when
   * the plan has steps those must not come after.
   */
  ahead?: { from: number; to: number };
}
