/*
 * tsrun native shim: the only code that runs between clone() and execve().
 *
 * Why it exists: Node is multi-threaded, so it may not unshare(CLONE_NEWUSER) or setns() into a
 * mount/user namespace, and a forked copy of V8 cannot run JavaScript safely. TypeScript computes a
 * *plan* (an ordered list of small steps); this code runs it with raw syscalls and then execs. It
 * knows nothing about OCI or JSON. Built twice: libtsrun-shim.so (loaded by Node through koffi),
 * which starts the container side, and tsrun-init (static, -DTSRUN_INIT_PROGRAM), the container
 * side itself: no process tsrun puts in a container is ever a copy of Node (see tsrun_spawn).
 *
 * Wire format of a plan (little endian), built by src/native/encode-plan.ts:
 *   header: u32 magic 'TSRN', u32 version, u64 clone_flags, u32 flags (TSRUN_PLAN_*),
 *           u32 preserve_fds, u32 n_pass, i32 fd * n_pass, u32 n_joins, { u32 nstype, str path } * n_joins,
 *           u32 n_steps
 *   step:   u16 op, u16 flags (TSRUN_STEP_*), u16 n_int, u16 n_str, i64 * n_int, str * n_str
 *   str:    u32 length, bytes (no NUL)
 * pass fds: fds of tsrun's that the steps use (a hook's state file, the init's root for `exec`):
 * passed through the exec of tsrun-init, close-on-exec in the container's program. Every other fd
 * but 0-2, the preserved ones (3..3+preserve_fds-1) and the sync socket is closed by tsrun-init
 * before the first step.
 * Binary data travels as ints, never as strings: TSRUN_OP_SECCOMP sends its BPF program as one i64
 * per struct sock_filter, whose 8 little-endian bytes are the instruction as the kernel lays it out
 * (u16 code, u8 jt, u8 jf, u32 k: value = code | jt << 16 | jf << 24 | k << 32).
 * Keep the op numbers in sync with src/native/ops.ts.
 */
#ifndef TSRUN_SHIM_H
#define TSRUN_SHIM_H

#include <stdint.h>

#define TSRUN_PLAN_MAGIC 0x4e525354u /* "TSRN" */
#define TSRUN_PLAN_VERSION 2u
#define TSRUN_MAX_PASS_FDS 16

/* Plan header flags */
#define TSRUN_PLAN_WAIT_GO 1u   /* child waits for a byte from the parent before its first step */
#define TSRUN_PLAN_TRACE 2u     /* report every step, not only failures */
#define TSRUN_PLAN_PDEATHSIG 4u /* child gets SIGKILL if the parent dies during set-up */
/* A new user namespace whose maps an unprivileged tsrun writes (its own id alone): the container process
 * stays dumpable until the go-ahead (see child_main), else /proc/PID/uid_map is root's. */
#define TSRUN_PLAN_DUMPABLE_UNTIL_GO 8u

/* Step flags */
#define TSRUN_STEP_IN_ROOT 1u      /* path strings are resolved inside the rootfs (RESOLVE_IN_ROOT) */
#define TSRUN_STEP_OPTIONAL 2u     /* ENOENT on the target is not an error: skip the step */
#define TSRUN_STEP_KEEP_LOCKED 4u  /* remount: keep nosuid/nodev/noexec/atime flags already set */
#define TSRUN_STEP_EXIST_OK 8u     /* EEXIST is not an error (symlink, mkdir, mknod) */
#define TSRUN_STEP_NO_SYMLINKS 16u /* mount: the target must be reached without any symlink (proc, sysfs) */
#define TSRUN_STEP_NOT_ON_PROCFS 32u /* mount: the target must not lie on procfs (reached by a symlink) */
#define TSRUN_STEP_BEFORE_CLONE 64u /* run by tsrun-init's first stage before it clones the container process
                                       (a new time namespace); the container process skips it */

enum tsrun_op {
  TSRUN_OP_MOUNT = 1,        /* str: source, target, fstype, data; int: flags, mkdir (0 none, 1 dir, 2 file) */
  TSRUN_OP_UMOUNT = 2,       /* str: target; int: flags */
  TSRUN_OP_OPEN_ROOT = 3,    /* str: rootfs path; later IN_ROOT steps resolve against it */
  TSRUN_OP_MKDIR = 4,        /* str: path; int: mode */
  TSRUN_OP_MKNOD = 5,        /* str: path; int: mode (incl. type), major, minor, uid, gid */
  TSRUN_OP_SYMLINK = 6,      /* str: target, linkpath */
  TSRUN_OP_CHDIR = 7,        /* str: path — then the cwd must be inside the root (getcwd) */
  TSRUN_OP_PIVOT_ROOT = 8,   /* str: new_root, put_old */
  TSRUN_OP_CHROOT = 9,       /* str: path */
  TSRUN_OP_SETHOSTNAME = 10, /* str: name */
  TSRUN_OP_SETDOMAINNAME = 11,
  TSRUN_OP_WRITE_FILE = 12,  /* str: path, content */
  TSRUN_OP_SETRLIMIT = 13,   /* int: resource, soft, hard (-1 = unlimited) */
  TSRUN_OP_PRCTL = 14,       /* int: option, arg2, arg3, arg4, arg5 */
  TSRUN_OP_BOUNDING = 15,    /* int: mask of capabilities to keep in the bounding set */
  TSRUN_OP_CAPSET = 16,      /* int: effective, permitted, inheritable masks */
  TSRUN_OP_AMBIENT = 17,     /* int: mask of ambient capabilities to raise */
  TSRUN_OP_SETGROUPS = 18,   /* int: gids… */
  TSRUN_OP_SETRESGID = 19,   /* int: gid */
  TSRUN_OP_SETRESUID = 20,   /* int: uid */
  TSRUN_OP_MASK = 21,        /* str: path — a directory gets a read-only tmpfs, a file /dev/null */
  TSRUN_OP_CONSOLE = 22,     /* int: rows, cols, uid, gid — pty from /dev/ptmx, master sent to parent */
  TSRUN_OP_SETSID = 23,
  TSRUN_OP_UMASK = 24,       /* int: mask */
  TSRUN_OP_EXEC = 25,        /* int: argc, envc[, 1]; str: [path,] argv…, envp… — PATH searched in envp */
  TSRUN_OP_CHOWN = 26,       /* str: path; int: uid, gid */
  TSRUN_OP_WAIT_PARENT = 27, /* block until the parent sends a byte (e.g. `start` after `create`) */
  TSRUN_OP_SETNS = 28,       /* str: path; int: nstype — join after clone (not for pid/user) */
  TSRUN_OP_CHMOD = 29,       /* str: path; int: mode */
  TSRUN_OP_OPEN_KEEP = 30,   /* str: path; int: open flags, slot — keep an fd (close-on-exec) for later */
  TSRUN_OP_WAIT_READ = 31,   /* int: slot — report WAITING, block until a byte can be read from the slot */
  TSRUN_OP_STDIN_FROM = 32,  /* int: fd inherited from the parent — make it fd 0 (a hook's state JSON) */
  TSRUN_OP_CHECK_EXEC = 33,  /* as EXEC, but only finds the program (PATH, X_OK) — fail early at create */
  TSRUN_OP_NEW_KEYRING = 34, /* str: name — join a new session keyring (keys are not shared with the caller) */
  TSRUN_OP_SECCOMP = 35,    /* int: seccomp(2) flags, then one int per BPF instruction — install the filter */
  TSRUN_OP_UNSHARE = 36,    /* int: CLONE_NEW* flags — unshare(2): a time namespace before the clone (BEFORE_CLONE), a cgroup namespace once placed */
  TSRUN_OP_DUP_FD = 37,     /* int: fd inherited from the parent, target (0-2) — dup2 (the library's stdio pipes) */
  TSRUN_OP_REOPEN_DEV_NULL = 38, /* stdio (fds 0-2) that is the null device: reopened read-write from the container's /dev/null */
  TSRUN_OP_FCHDIR = 39,      /* int: slot — fchdir to a kept fd (the old root after pivot_root), then close it */
  TSRUN_OP_LOOPBACK_UP = 40, /* bring `lo` of the current network namespace up: ioctl(SIOCSIFFLAGS) on an AF_INET socket */
  TSRUN_OP_CHOWN_BENEATH = 41, /* str: path under the openRoot dir; int: uid, gid, mode (-1: keep) — lchown (and chmod), no symlink followed */
  TSRUN_OP_REMOVE_TREE = 42, /* str: path under the openRoot dir — rm -rf by dirfds, no symlink followed, no mount crossed */
  TSRUN_OP_EXIT = 43,        /* int: status — end here without exec (a plan that only does file work) */
  TSRUN_OP_SETXATTR_BENEATH = 44, /* str: path under the openRoot dir, name; int: length, then the value as 8-byte words — no symlink followed */
  TSRUN_OP_MAX = 45
};

/* Child → parent reports over the sync socket (SOCK_SEQPACKET, one report per message). */
enum tsrun_report_kind {
  TSRUN_REPORT_STEP_OK = 1,
  TSRUN_REPORT_STEP_FAILED = 2,
  TSRUN_REPORT_FD = 3,      /* an fd (pty master) is attached with SCM_RIGHTS */
  TSRUN_REPORT_PID = 4,     /* value = pid of the container process (two-stage spawn) */
  TSRUN_REPORT_EXEC = 5,    /* about to execve: EOF follows on success */
  TSRUN_REPORT_SKIPPED = 6, /* optional step skipped (ENOENT) */
  TSRUN_REPORT_WAITING = 7, /* blocked in WAIT_PARENT / WAIT_READ: set-up is complete */
  TSRUN_REPORT_AHEAD_DONE = 8 /* a warm init ran the steps sent ahead (TSRUN_WARM_AHEAD_MAGIC) */
};

struct tsrun_report {
  uint32_t kind;
  int32_t step;
  int32_t err;   /* errno */
  int32_t value;
  uint64_t start_ns; /* CLOCK_MONOTONIC, same clock as process.hrtime */
  uint64_t end_ns;
  char syscall[32];
};

/* tsrun_spawn flags */
#define TSRUN_SPAWN_TWO_STAGE 1   /* use the two-stage spawn even when the plan does not need it (tests) */
#define TSRUN_SPAWN_SEALED_COPY 2 /* run tsrun-init from a sealed memfd even where a read-only mount works (tests) */

/* How tsrun-init was made unwritable for the container (tsrun_spawn_result.init_kind). */
#define TSRUN_INIT_READ_ONLY_MOUNT 1 /* a read-only bind mount in no mount table */
#define TSRUN_INIT_SEALED_MEMFD 2    /* a sealed memfd copy */

struct tsrun_spawn_result {
  int32_t pid;       /* the child; with two_stage, the first stage, which reports the container's pid */
  int32_t sync_fd;
  int32_t err;       /* errno of the parent-side failure, 0 on success */
  int32_t step;      /* -1, or the step a decode error is about */
  char what[64];     /* which parent-side call failed */
  int32_t two_stage; /* 1: tsrun-init joins/creates the namespaces and clones the container process */
  int32_t clone3;    /* 1: clone3(CLONE_INTO_CGROUP) started it; 0: clone */
  int32_t init_kind; /* TSRUN_INIT_* */
  int32_t mounts_fd; /* tsrun_spawn_warm: /proc/self/mountinfo, opened before the clone (else -1) */
};

/*
 * The connector: `tsrun-init connect SOCK_FD NS_FD`, a short-lived helper that joins a container's
 * network namespace (NS_FD: an fd of /proc/PID/ns/net, a pinned namespace file, or a pidfd) and
 * makes connected sockets there for tsrun, which gets them over SCM_RIGHTS (Node never setns's).
 * One request per message on the SOCK_SEQPACKET socket; EOF ends it.
 */
struct tsrun_connect_request {
  uint32_t family;   /* AF_INET or AF_INET6 */
  uint32_t port;
  uint8_t addr[16];  /* network byte order: 4 bytes for AF_INET */
  int32_t timeout_ms; /* for connect(2) (SO_SNDTIMEO); 0: the kernel's */
};
struct tsrun_connect_reply {
  int32_t err;       /* errno of socket/connect, 0 with an fd attached */
  char syscall[16];
};

/* A warm init's plan message (tsrun_send_plan → tsrun-init's warm_main): the fds attached are the
 * plan's memfd, then n_fds fds, the i-th to become fd targets[i]. */
#define TSRUN_WARM_MAGIC 0x4d524157u /* 'WARM' */
/* The steps to run at once, before the plan (no fds; answered by TSRUN_REPORT_AHEAD_DONE or a failed step). */
#define TSRUN_WARM_AHEAD_MAGIC 0x44484541u /* 'AHED' */
#define TSRUN_WARM_MAX_FDS 16
struct tsrun_warm_header {
  uint32_t magic;
  uint32_t n_fds;
  int32_t targets[TSRUN_WARM_MAX_FDS];
};

/* init_path: the tsrun-init program; the child execs a read-only copy of it right after the clone. */
int tsrun_spawn(const uint8_t *plan, uint32_t len, int cgroup_fd, const char *init_path, int flags, struct tsrun_spawn_result *out);
int tsrun_recv_report(int fd, struct tsrun_report *out, int *passed_fd);
int tsrun_spawn_warm(uint64_t clone_flags, const char *cgroup_dir, const char *root_procs, int owner_tid, const char *init_path, int flags, struct tsrun_spawn_result *out);
int tsrun_thread_id(void);
int tsrun_warm_ahead(int sync_fd, const uint8_t *ahead, uint32_t len, char *what, uint32_t what_size);
int tsrun_send_plan(int sync_fd, const uint8_t *plan, uint32_t len, const int *fds, const int *targets, int n);
int tsrun_mounts_changed(int fd);
int tsrun_spawn_connector(const char *init_path, int ns_fd, int *sock_out);
int tsrun_connector_connect(int sock, uint32_t family, const uint8_t *addr, uint32_t port, int32_t timeout_ms, char *syscall_out);
int tsrun_recv_report_within(int fd, int timeout_ms, struct tsrun_report *out, int *passed_fd);
int tsrun_send_byte(int fd, int byte);
int tsrun_wait(int pid, int *status);
int tsrun_wait_nohang(int pid, int *status);
int tsrun_set_winsize(int fd, int rows, int cols);
int tsrun_send_fd(const char *socket_path, int fd);
int tsrun_close(int fd);
void tsrun_exit_now(int code);
int tsrun_mkfifo(const char *path, int mode);
int tsrun_rename_exchange(const char *a, const char *b);
int tsrun_rename_noreplace(const char *a, const char *b);
int tsrun_pipe(int *fds);
int tsrun_memfd(const char *name);
int tsrun_pidfd_open(int pid);
int tsrun_poll_readable(int fd, int timeout_ms);
int tsrun_pidfd_send_signal(int pidfd, int sig);
int tsrun_flock(int fd, int op);
int tsrun_umount_mount(const char *path, int mount_id);
int tsrun_tty_make_raw(int fd, uint8_t *saved, int saved_len);
int tsrun_tty_restore(int fd, const uint8_t *saved, int saved_len);
int tsrun_bpf_prog_load(uint32_t prog_type, uint32_t expected_attach_type, const uint8_t *insns, uint32_t insn_cnt,
                        const char *license, const char *name, char *log, uint32_t log_size);
int tsrun_bpf_prog_attach(int attach, int target_fd, int prog_fd, uint32_t attach_type, uint32_t flags);
int tsrun_bpf_prog_query(int target_fd, uint32_t attach_type, uint32_t *ids, uint32_t max);
int tsrun_bpf_prog_fd_by_id(uint32_t id);

#endif
