/*
 * tsrun native shim — see shim.h for why it exists and the plan's wire format.
 *
 * One file, two programs:
 *  - libtsrun-shim.so, loaded by Node through koffi. It decodes a plan to check it, makes the sync
 *    socket and starts the container side, and does the few syscalls Node lacks (SCM_RIGHTS, pidfds,
 *    bpf, terminal modes…). It never lets a copy of Node into a container: the process it clones
 *    borrows Node's memory only until it execs tsrun-init (see "starting the container side").
 *  - tsrun-init (-DTSRUN_INIT_PROGRAM, static): the container side. A small single-threaded program,
 *    so it may setns into any namespace and clone a user namespace; it runs the plan's steps with
 *    plain syscalls and execs the container's program.
 */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/file.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
/* The new mount API (Linux 5.2; tsrun needs 5.11): constants as in <linux/mount.h>, for C libraries
 * whose <sys/mount.h> predates them. */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef OPEN_TREE_CLOEXEC
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#endif
/* struct mount_attr of <linux/mount.h>, under a name of our own (glibc 2.36 declares it too). */
struct tsrun_mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

struct step {
  uint16_t op, flags, n_int, n_str;
  int64_t *ints;
  char **strs;
};

struct join {
  uint32_t nstype;
  char *path;
};

struct plan {
  uint64_t clone_flags;
  uint32_t flags, preserve_fds, n_pass, n_joins, n_steps;
  int32_t pass_fds[TSRUN_MAX_PASS_FDS];
  struct join *joins;
  struct step *steps;
};


/* ------------------------------------------------------------------ decoding (both sides: Node checks, tsrun-init runs) */

struct reader {
  const uint8_t *p, *end;
  int bad;
};

static uint64_t rd(struct reader *r, unsigned size) {
  uint64_t v = 0;
  if (r->bad || (size_t)(r->end - r->p) < size) { r->bad = 1; return 0; }
  for (unsigned i = 0; i < size; i++) v |= (uint64_t)r->p[i] << (8 * i);
  r->p += size;
  return v;
}

static char *rd_str(struct reader *r) {
  uint32_t n = (uint32_t)rd(r, 4);
  if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; return NULL; }
  char *s = malloc((size_t)n + 1);
  if (!s) { r->bad = 1; return NULL; }
  memcpy(s, r->p, n);
  s[n] = 0;
  r->p += n;
  return s;
}

static void free_plan(struct plan *pl) {
  if (pl->joins)
    for (uint32_t i = 0; i < pl->n_joins; i++) free(pl->joins[i].path);
  if (pl->steps)
    for (uint32_t i = 0; i < pl->n_steps; i++) {
      struct step *s = &pl->steps[i];
      if (s->strs)
        for (uint16_t j = 0; j < s->n_str; j++) free(s->strs[j]);
      free(s->strs);
      free(s->ints);
    }
  free(pl->joins);
  free(pl->steps);
  memset(pl, 0, sizeof *pl);
}

static int decode_plan(const uint8_t *buf, uint32_t len, struct plan *pl, int *bad_step) {
  struct reader r = {buf, buf + len, 0};
  memset(pl, 0, sizeof *pl);
  *bad_step = -1;
  if (rd(&r, 4) != TSRUN_PLAN_MAGIC || rd(&r, 4) != TSRUN_PLAN_VERSION) return -EPROTO;
  pl->clone_flags = rd(&r, 8);
  pl->flags = (uint32_t)rd(&r, 4);
  pl->preserve_fds = (uint32_t)rd(&r, 4);
  pl->n_pass = (uint32_t)rd(&r, 4);
  if (r.bad || pl->n_pass > TSRUN_MAX_PASS_FDS || pl->preserve_fds > 1u << 20) return -EPROTO;
  for (uint32_t i = 0; i < pl->n_pass; i++) pl->pass_fds[i] = (int32_t)rd(&r, 4);
  pl->n_joins = (uint32_t)rd(&r, 4);
  if (r.bad || pl->n_joins > 16) return -EPROTO;
  pl->joins = calloc(pl->n_joins + 1, sizeof *pl->joins);
  if (!pl->joins) return -ENOMEM;
  for (uint32_t i = 0; i < pl->n_joins; i++) {
    pl->joins[i].nstype = (uint32_t)rd(&r, 4);
    pl->joins[i].path = rd_str(&r);
  }
  pl->n_steps = (uint32_t)rd(&r, 4);
  if (r.bad || pl->n_steps > 100000) { pl->n_steps = 0; return -EPROTO; }
  pl->steps = calloc(pl->n_steps + 1, sizeof *pl->steps);
  if (!pl->steps) { pl->n_steps = 0; return -ENOMEM; }
  for (uint32_t i = 0; i < pl->n_steps; i++) {
    struct step *s = &pl->steps[i];
    s->op = (uint16_t)rd(&r, 2);
    s->flags = (uint16_t)rd(&r, 2);
    s->n_int = (uint16_t)rd(&r, 2);
    s->n_str = (uint16_t)rd(&r, 2);
    if (r.bad || s->op == 0 || s->op >= TSRUN_OP_MAX) { *bad_step = (int)i; s->n_str = 0; return -EPROTO; }
    s->ints = calloc((size_t)s->n_int + 1, sizeof *s->ints);
    /* strs is NULL-terminated so argv/envp slices can be handed to execve directly. */
    s->strs = calloc((size_t)s->n_str + 2, sizeof *s->strs);
    if (!s->ints || !s->strs) { s->n_str = 0; return -ENOMEM; }
    for (uint16_t j = 0; j < s->n_int; j++) s->ints[j] = (int64_t)rd(&r, 8);
    for (uint16_t j = 0; j < s->n_str; j++) s->strs[j] = rd_str(&r);
    if (r.bad) { *bad_step = (int)i; return -EPROTO; }
  }
  return r.p == r.end ? 0 : -EPROTO;
}


/* ------------------------------------------------------------------ helpers of both sides */

static void copy_name(char *dst, const char *src, size_t cap) {
  size_t i = 0;
  for (; src[i] && i + 1 < cap; i++) dst[i] = src[i];
  dst[i] = 0;
}

/* "/proc/self/fd/N" without snprintf (which may allocate). */
static void fd_path(char out[32], int fd) {
  const char *prefix = "/proc/self/fd/";
  char digits[12];
  int n = 0, i = 0;
  do { digits[n++] = (char)('0' + fd % 10); fd /= 10; } while (fd > 0 && n < 11);
  for (; prefix[i]; i++) out[i] = prefix[i];
  while (n > 0) out[i++] = digits[--n];
  out[i] = 0;
}

/*
 * One message of `len` bytes, with the `n` fds of `fds` attached (SCM_RIGHTS; at most
 * TSRUN_WARM_MAX_FDS, none when n is 0): in tsrun-init a report to tsrun (send_report) or a connected
 * socket to the `connect` mode's caller; in tsrun the pty master to a --console-socket
 * (tsrun_send_fd) and a warm init's plan with its fds (tsrun_send_plan). Retried on EINTR; -1 with
 * errno set on failure. recv_with_fds is the receiving side.
 */
static ssize_t send_with_fds(int sock, const void *buf, size_t len, const int *fds, int n) {
  if (n < 0 || n > TSRUN_WARM_MAX_FDS) {
    errno = E2BIG;
    return -1;
  }
  struct iovec iov = {(void *)buf, len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union { char buf[CMSG_SPACE(TSRUN_WARM_MAX_FDS * sizeof(int))]; struct cmsghdr align; } ctl;
  if (n > 0) {
    memset(&ctl, 0, sizeof ctl);
    msg.msg_control = ctl.buf;
    msg.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)n * sizeof(int));
  }
  ssize_t sent;
  while ((sent = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
  return sent;
}

/* send_with_fds with `fd` attached when it is >= 0. */
static ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd) {
  return send_with_fds(sock, buf, len, &fd, fd >= 0 ? 1 : 0);
}

/*
 * The twin of send_with_fds, for every receiver in tsrun and tsrun-init: the reports
 * (tsrun_recv_report), the connector's sockets (tsrun_connector_connect), a warm init's plan
 * (warm_main). One message of exactly `len` bytes into buf, and the fds attached to it, at most
 * `max` (<= TSRUN_WARM_MAX_FDS), in fds[0..*count-1] (close-on-exec). Returns len; 0 at EOF (a reset,
 * as SOCK_SEQPACKET reports a peer that exited with the message unread, counts as EOF); -EPROTO for
 * anything but one whole message with at most `max` fds (short, cut off, control data cut off, more
 * fds), after closing every fd that came with it, so that nothing the other end sends stays open;
 * -errno from recvmsg. Retried on EINTR.
 */
static ssize_t recv_with_fds(int sock, void *buf, size_t len, int *fds, int max, int *count) {
  *count = 0;
  struct iovec iov = {buf, len};
  /* Room for one fd more than `max` (with the padding on 64-bit, sometimes two): the kernel installs
   * the fds that fit and drops the rest with MSG_CTRUNC, so every fd in every SCM_RIGHTS header below
   * is one this process now holds. */
  union { char buf[CMSG_SPACE((TSRUN_WARM_MAX_FDS + 1) * sizeof(int))]; struct cmsghdr align; } ctl;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = CMSG_SPACE((size_t)(max + 1) * sizeof(int));
  ssize_t n;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  if (n < 0) return errno == ECONNRESET ? 0 : -errno;
  int extra = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (*count < max) fds[(*count)++] = got;
      else { close(got); extra = 1; }
    }
  }
  if (n == 0 && *count == 0) return 0;
  if ((size_t)n != len || extra || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
    for (int i = 0; i < *count; i++) close(fds[i]);
    *count = 0;
    return -EPROTO;
  }
  return n;
}

#ifdef TSRUN_INIT_PROGRAM
/* ------------------------------------------------------------------ tsrun-init: helpers */

static int g_sync_fd = -1;
static int g_pdeathsig = 0;
static int g_root_fd = -1;
static const char *g_syscall = "";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void send_report(uint32_t kind, int step, int err, int value, uint64_t t0, uint64_t t1, int fd_to_pass) {
  struct tsrun_report rep;
  memset(&rep, 0, sizeof rep);
  rep.kind = kind;
  rep.step = step;
  rep.err = err;
  rep.value = value;
  rep.start_ns = t0;
  rep.end_ns = t1;
  if (kind == TSRUN_REPORT_STEP_FAILED) copy_name(rep.syscall, g_syscall, sizeof rep.syscall);
  send_with_fd(g_sync_fd, &rep, sizeof rep, fd_to_pass);
}

/* Fail with the syscall's name recorded: every step returns -errno through this. */
#define FAIL(name) do { g_syscall = (name); return -errno; } while (0)

static int openat2_in_root(const char *path, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, g_root_fd, path, &how, sizeof how);
}

/*
 * Resolves `path` inside the rootfs the way a container would see it, creating what is missing:
 * components are walked one at a time; a symlink is read and its target (absolute ones taken
 * relative to the rootfs, `..` clamped at its top) replaces it, so a dangling link such as
 * /evil -> /tmp/x makes us create /tmp/x *inside the rootfs*, never on the host. Every syscall is
 * relative to a directory the kernel resolved inside the root (RESOLVE_IN_ROOT).
 * kind: 0 resolve only, 1 create directories, 2 create directories and the last component as a file.
 * follow_last: 0 for the path of something about to be created (symlink, mknod), whose parent is wanted.
 * Returns an O_PATH fd, or -1 with errno (and g_syscall) set.
 */
static int resolve_create(const char *path, int kind) {
  char todo[4096], done[4096] = "";
  size_t n = strlen(path);
  if (n >= sizeof todo) { errno = ENAMETOOLONG; g_syscall = "openat2"; return -1; }
  memcpy(todo, path, n + 1);
  for (int hops = 0; hops < 40; hops++) {
    char *rest = todo;
    int restart = 0;
    while (*rest && !restart) {
      while (*rest == '/') rest++;
      if (!*rest) break;
      char *slash = strchr(rest, '/');
      size_t clen = slash ? (size_t)(slash - rest) : strlen(rest);
      char comp[256];
      if (clen >= sizeof comp) { errno = ENAMETOOLONG; g_syscall = "openat2"; return -1; }
      memcpy(comp, rest, clen);
      comp[clen] = 0;
      rest += clen;
      int last = *rest == 0 || strspn(rest, "/") == strlen(rest);
      if (strcmp(comp, ".") == 0) continue;
      if (strcmp(comp, "..") == 0) { char *cut = strrchr(done, '/'); if (cut) *cut = 0; continue; }
      int dir = openat2_in_root(*done ? done : "/", O_PATH | O_DIRECTORY);
      if (dir < 0) { g_syscall = "openat2"; return -1; }
      struct stat st;
      if (fstatat(dir, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT || !kind) { int e = errno; close(dir); errno = e; g_syscall = "fstatat"; return -1; }
        int rc;
        if (last && kind == 2) {
          rc = openat(dir, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (rc >= 0) rc = close(rc);
          g_syscall = "openat";
        } else {
          rc = mkdirat(dir, comp, 0755);
          g_syscall = "mkdirat";
        }
        if (rc < 0 && errno != EEXIST) { int e = errno; close(dir); errno = e; return -1; }
      } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t len = readlinkat(dir, comp, target, sizeof target - 1);
        if (len < 0) { int e = errno; close(dir); errno = e; g_syscall = "readlinkat"; return -1; }
        target[len] = 0;
        /* New work list: the link's target, then what was left after the link. */
        char next[4096];
        size_t tl = (size_t)len, rl = strlen(rest);
        if (tl + rl + 2 > sizeof next) { close(dir); errno = ENAMETOOLONG; g_syscall = "readlinkat"; return -1; }
        memcpy(next, target, tl);
        memcpy(next + tl, rest, rl + 1);
        memcpy(todo, next, tl + rl + 1);
        if (target[0] == '/') done[0] = 0;
        close(dir);
        restart = 1;
        break;
      }
      close(dir);
      size_t dl = strlen(done);
      if (dl + clen + 2 > sizeof done) { errno = ENAMETOOLONG; g_syscall = "openat2"; return -1; }
      done[dl] = '/';
      memcpy(done + dl + 1, comp, clen + 1);
    }
    if (!restart) {
      int fd = openat2_in_root(*done ? done : "/", O_PATH);
      if (fd < 0) g_syscall = "openat2";
      return fd;
    }
  }
  errno = ELOOP;
  g_syscall = "readlinkat";
  return -1;
}

/* The parent directory of `path` inside the root (created, links followed) and its last component. */
static int open_parent_in_root(const char *path, int create, char *last, size_t last_cap) {
  char buf[4096];
  size_t n = strlen(path);
  if (n >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  memcpy(buf, path, n + 1);
  while (n > 1 && buf[n - 1] == '/') buf[--n] = 0;
  char *slash = strrchr(buf, '/');
  const char *name = slash ? slash + 1 : buf;
  if (strlen(name) >= last_cap || !*name) { errno = EINVAL; return -1; }
  copy_name(last, name, last_cap);
  if (!slash) return resolve_create("/", 0);
  *slash = 0;
  return resolve_create(*buf ? buf : "/", create ? 1 : 0);
}

/* Resolve `path` for a step inside the root (creating it when asked), giving a /proc/self/fd path. */
static int resolve_in_root(const char *path, int mkdir_kind, char out[32], int *opened) {
  *opened = -1;
  int fd = resolve_create(path, mkdir_kind);
  if (fd < 0) return -errno;
  *opened = fd;
  fd_path(out, fd);
  return 0;
}

/* The path a syscall should use for a step's target: resolved inside the rootfs, or taken as is. */
static int step_target(const struct step *s, const char *path, int mkdir_kind, char fdp[32], int *opened,
                       const char **target) {
  *opened = -1;
  *target = path;
  if (!(s->flags & TSRUN_STEP_IN_ROOT)) return 0;
  int rc = resolve_in_root(path, mkdir_kind, fdp, opened);
  if (rc == 0) *target = fdp;
  return rc;
}

/* ------------------------------------------------------------------ tsrun-init: steps */

static int step_mount(const struct step *s) {
  if (s->n_str < 4 || s->n_int < 2) { errno = EINVAL; FAIL("plan"); }
  const char *src = *s->strs[0] ? s->strs[0] : NULL;
  const char *fstype = *s->strs[2] ? s->strs[2] : NULL;
  const char *data = *s->strs[3] ? s->strs[3] : NULL;
  unsigned long flags = (unsigned long)s->ints[0];
  char fdp[32];
  int opened;
  const char *target;
  int rc = step_target(s, s->strs[1], (int)s->ints[1], fdp, &opened, &target);
  if (rc < 0) return rc;
  if (opened >= 0 && (s->flags & TSRUN_STEP_NO_SYMLINKS)) {
    /* Made above if it was missing; now the kernel must reach it again without following any symlink
     * (and it must be a directory), and the mount goes on what it found. */
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int strict = (int)syscall(SYS_openat2, g_root_fd, s->strs[1], &how, sizeof how);
    int e = errno;
    close(opened);
    opened = strict;
    if (strict < 0) { errno = e; FAIL("openat2(RESOLVE_NO_SYMLINKS)"); }
    fd_path(fdp, strict);
  }
  if (opened >= 0 && (s->flags & TSRUN_STEP_NOT_ON_PROCFS)) {
    /* Checked on the fd the mount goes on, so a symlink swapped in meanwhile cannot get around it. */
    struct statfs fs;
    if (fstatfs(opened, &fs) < 0) { int e = errno; close(opened); errno = e; FAIL("fstatfs"); }
    if (fs.f_type == PROC_SUPER_MAGIC) { close(opened); errno = EXDEV; FAIL("fstatfs(target in procfs)"); }
  }
  if ((s->flags & TSRUN_STEP_KEEP_LOCKED) && (flags & MS_REMOUNT)) {
    /* In a user namespace the kernel locks nosuid/nodev/noexec/atime flags of mounts inherited from a
     * more privileged namespace; a remount that drops them gets EPERM, so carry them over. */
    struct statvfs st;
    if (statvfs(target, &st) == 0) {
      if (st.f_flag & ST_NOSUID) flags |= MS_NOSUID;
      if (st.f_flag & ST_NODEV) flags |= MS_NODEV;
      if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
      if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
      if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
      if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    }
  }
  if ((flags & (MS_REMOUNT | MS_BIND | MS_REC)) == (MS_REMOUNT | MS_BIND | MS_REC)) {
    /* mount(2) ignores MS_REC on a remount and changes the top mount only: remount the top with every
     * flag, then add ro/nosuid/nodev/noexec to the whole tree below the target. Flags are only added
     * there, so locked ones need no care. */
    if (mount(src, target, fstype, flags & ~(unsigned long)MS_REC, data) < 0) {
      int e = errno;
      if (opened >= 0) close(opened);
      errno = e;
      FAIL("mount");
    }
    struct tsrun_mount_attr attr;
    memset(&attr, 0, sizeof attr);
    if (flags & MS_RDONLY) attr.attr_set |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID) attr.attr_set |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV) attr.attr_set |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC) attr.attr_set |= MOUNT_ATTR_NOEXEC;
    rc = opened >= 0 ? (int)syscall(SYS_mount_setattr, opened, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr)
                     : (int)syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof attr);
    int e = errno;
    if (opened >= 0) close(opened);
    if (rc < 0) { errno = e; FAIL("mount_setattr"); }
    return 0;
  }
  rc = mount(src, target, fstype, flags, data);
  int e = errno;
  if (opened >= 0) close(opened);
  if (rc < 0) { errno = e; FAIL("mount"); }
  return 0;
}

static int step_mknod(const struct step *s) {
  char last[256];
  int parent = open_parent_in_root(s->strs[0], 1, last, sizeof last);
  if (parent < 0) return -errno;
  mode_t mode = (mode_t)s->ints[0];
  int rc = mknodat(parent, last, mode, makedev((unsigned)s->ints[1], (unsigned)s->ints[2]));
  if (rc < 0 && errno == EEXIST && (s->flags & TSRUN_STEP_EXIST_OK)) rc = 0;
  else if (rc == 0) rc = fchownat(parent, last, (uid_t)s->ints[3], (gid_t)s->ints[4], AT_SYMLINK_NOFOLLOW);
  int e = errno;
  close(parent);
  if (rc < 0) { errno = e; FAIL("mknodat"); }
  return 0;
}

static int step_symlink(const struct step *s) {
  char last[256];
  int parent = open_parent_in_root(s->strs[1], 1, last, sizeof last);
  if (parent < 0) return -errno;
  int rc = symlinkat(s->strs[0], parent, last);
  int e = errno;
  close(parent);
  if (rc < 0 && !(e == EEXIST && (s->flags & TSRUN_STEP_EXIST_OK))) { errno = e; FAIL("symlinkat"); }
  return 0;
}

static int step_mkdir(const struct step *s) {
  if (!(s->flags & TSRUN_STEP_IN_ROOT)) {
    if (mkdir(s->strs[0], (mode_t)s->ints[0]) < 0 && !(errno == EEXIST && (s->flags & TSRUN_STEP_EXIST_OK))) FAIL("mkdir");
    return 0;
  }
  char last[256];
  int parent = open_parent_in_root(s->strs[0], 1, last, sizeof last);
  if (parent < 0) return -errno;
  int rc = mkdirat(parent, last, (mode_t)s->ints[0]);
  int e = errno;
  close(parent);
  if (rc < 0 && !(e == EEXIST && (s->flags & TSRUN_STEP_EXIST_OK))) { errno = e; FAIL("mkdirat"); }
  return 0;
}

static int step_chown_chmod(const struct step *s, int is_chown) {
  char fdp[32];
  int opened;
  const char *p;
  int rc = step_target(s, s->strs[0], 0, fdp, &opened, &p);
  if (rc < 0) return rc;
  /* O_PATH fds cannot be fchown'ed; the /proc/self/fd path of one can (it names the inode). */
  rc = is_chown ? chown(p, (uid_t)s->ints[0], (gid_t)s->ints[1]) : chmod(p, (mode_t)s->ints[0]);
  int e = errno;
  if (opened >= 0) close(opened);
  if (rc < 0) { errno = e; FAIL(is_chown ? "chown" : "chmod"); }
  return 0;
}

static int step_write_file(const struct step *s) {
  int fd = open(s->strs[0], O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) FAIL("open");
  size_t n = strlen(s->strs[1]);
  ssize_t w = write(fd, s->strs[1], n);
  int e = errno;
  close(fd);
  if (w < 0) { errno = e; FAIL("write"); }
  if ((size_t)w != n) { errno = EIO; FAIL("write"); }
  return 0;
}

/*
 * Hides a path: an empty read-only tmpfs over a directory, the null device bound over anything else.
 * The container's /dev/null is used only once it is known to be the null device (a character device
 * 1:3 reached without a symlink): with the image's own /dev it could be a link to the very file the
 * mask should hide, or to one it should not expose (CVE-2025-31133). The bind goes from that fd to
 * the target's fd (open_tree + move_mount), so neither path is looked up twice. Problems with
 * /dev/null are ENODEV, never ENOENT, which would let the optional step be skipped silently.
 */
static int step_mask(const struct step *s) {
  int target = open(s->strs[0], O_PATH | O_CLOEXEC);
  if (target < 0) FAIL("open");
  struct stat st;
  if (fstat(target, &st) < 0) { int e = errno; close(target); errno = e; FAIL("fstat"); }
  if (S_ISDIR(st.st_mode)) {
    close(target);
    /* No options, as runc: read-only is what keeps it empty (size=0 showed as size=0k in mountinfo). */
    if (mount("tmpfs", s->strs[0], "tmpfs", MS_RDONLY, NULL) < 0) FAIL("mount");
    return 0;
  }
  int null_fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat nst;
  if (null_fd < 0 || fstat(null_fd, &nst) < 0 || !S_ISCHR(nst.st_mode) || nst.st_rdev != makedev(1, 3)) {
    if (null_fd >= 0) close(null_fd);
    close(target);
    errno = ENODEV;
    FAIL("/dev/null: not the null device");
  }
  int tree = (int)syscall(SYS_open_tree, null_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  int e = errno;
  close(null_fd);
  if (tree < 0) { close(target); errno = e; FAIL("open_tree(/dev/null)"); }
  int rc = (int)syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  e = errno;
  close(tree);
  close(target);
  if (rc < 0) { errno = e; FAIL("move_mount"); }
  return 0;
}

/*
 * fds 0-2 that are the null device (a caller's `</dev/null`, containerd's --null-io) may be open
 * read-only: the container could not write to its stdout. Each one becomes the container's own
 * /dev/null, opened read-write (runc's reOpenDevNull). Only a /dev/null that is the null device,
 * reached without a symlink, is opened for that (an image's /dev/null may point anywhere, and opening
 * some other device can act on it); otherwise the fds stay as they are, as runc leaves them.
 */
static int is_null_device(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3);
}

static int step_reopen_dev_null(void) {
  int want = 0;
  for (int fd = 0; fd < 3; fd++)
    if (is_null_device(fd)) want |= 1 << fd;
  if (!want) return 0;
  int probe = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int ok = probe >= 0 && is_null_device(probe);
  if (probe >= 0) close(probe);
  if (!ok) return 0;
  int null_fd = open("/dev/null", O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  if (null_fd < 0) FAIL("open(/dev/null)");
  if (!is_null_device(null_fd)) { close(null_fd); return 0; }
  for (int fd = 0; fd < 3; fd++) {
    if (!(want & (1 << fd))) continue;
    if (dup3(null_fd, fd, 0) < 0) { int e = errno; close(null_fd); errno = e; FAIL("dup3"); }
  }
  close(null_fd);
  return 0;
}

static int step_capset(const struct step *s) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)((uint64_t)s->ints[0] >> (32 * i));
    data[i].permitted = (uint32_t)((uint64_t)s->ints[1] >> (32 * i));
    data[i].inheritable = (uint32_t)((uint64_t)s->ints[2] >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) FAIL("capset");
  return 0;
}

static int step_bounding(const struct step *s) {
  uint64_t keep = (uint64_t)s->ints[0];
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ull << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      FAIL("prctl(PR_CAPBSET_DROP)");
    }
  }
  return 0;
}

static int step_ambient(const struct step *s) {
  uint64_t raise = (uint64_t)s->ints[0];
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) FAIL("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
  for (int cap = 0; cap < 64; cap++)
    if ((raise & (1ull << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      FAIL("prctl(PR_CAP_AMBIENT_RAISE)");
  return 0;
}

static int step_setgroups(const struct step *s) {
  gid_t gids[256];
  size_t n = s->n_int < 256 ? s->n_int : 256;
  for (size_t i = 0; i < n; i++) gids[i] = (gid_t)s->ints[i];
  /* The raw syscall, as for setresuid/gid: the change is this process's alone. glibc's wrappers also
   * broadcast it to every thread they know of; harmless in single-threaded tsrun-init, but they
   * hung forever back when this code ran in forks of Node, whose thread list they inherited. */
  if (syscall(SYS_setgroups, n, gids) < 0) FAIL("setgroups");
  return 0;
}

/* The container gets its own pty, allocated from its own devpts so `tty` names a path it can see;
 * the master goes to the parent (which cannot receive fds itself: SCM_RIGHTS is done here). */
static int step_console(const struct step *s) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) FAIL("open(/dev/ptmx)");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) FAIL("ioctl(TIOCSPTLCK)");
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) FAIL("ioctl(TIOCGPTPEER)");
  if (s->ints[0] > 0 && s->ints[1] > 0) {
    struct winsize ws = {(unsigned short)s->ints[0], (unsigned short)s->ints[1], 0, 0};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) FAIL("ioctl(TIOCSWINSZ)");
  }
  if (fchown(slave, (uid_t)s->ints[2], (gid_t)s->ints[3]) < 0) FAIL("fchown(pty)");
  send_report(TSRUN_REPORT_FD, -1, 0, 0, 0, 0, master);
  close(master);
  if (setsid() < 0 && errno != EPERM) FAIL("setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0) FAIL("ioctl(TIOCSCTTY)");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) FAIL("dup2");
  if (slave > 2) close(slave);
  return 0;
}

static int wait_parent(void) {
  char b;
  ssize_t n;
  while ((n = read(g_sync_fd, &b, 1)) < 0 && errno == EINTR) {}
  if (n < 0) FAIL("read(sync)");
  if (n == 0) { errno = ECONNRESET; FAIL("read(sync)"); }
  return 0;
}

/*
 * Finds the program of an EXEC/CHECK_EXEC step with the PATH of the container's environment (not the
 * caller's), like runc, and calls try_one on each candidate until it succeeds. Returns -errno of the
 * most telling failure: a found-but-not-executable file beats ENOENT.
 */
static int search_program(const char *file, char **envp, int (*try_one)(const char *, void *), void *ctx) {
  if (strchr(file, '/')) return try_one(file, ctx) < 0 ? -errno : 0;
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (char **e = envp; *e; e++)
    if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  int last_err = ENOENT;
  char full[4096];
  for (const char *p = path;;) {
    const char *colon = strchr(p, ':');
    size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
    size_t flen = strlen(file);
    if (dlen + flen + 2 < sizeof full) {
      memcpy(full, dlen ? p : ".", dlen ? dlen : 1);
      size_t at = dlen ? dlen : 1;
      full[at++] = '/';
      memcpy(full + at, file, flen + 1);
      if (try_one(full, ctx) == 0) return 0;
      if (errno != ENOENT && errno != ENOTDIR) last_err = errno;
    }
    if (!colon) break;
    p = colon + 1;
  }
  return -last_err;
}

struct exec_args { char **argv, **envp; };

static int try_execve(const char *path, void *ctx) {
  struct exec_args *a = ctx;
  execve(path, a->argv, a->envp);
  return -1;
}

static int try_access(const char *path, void *ctx) {
  (void)ctx;
  struct stat st;
  if (stat(path, &st) < 0) return -1;
  if (S_ISDIR(st.st_mode)) { errno = EACCES; return -1; }
  return access(path, X_OK);
}

static int step_exec(const struct step *s, int index, int check_only) {
  int argc = (int)s->ints[0], envc = (int)s->ints[1];
  int has_path = s->n_int > 2 && s->ints[2] == 1;
  if (argc < 1 || argc > 4096 || argc + envc + has_path != s->n_str) { errno = EINVAL; FAIL("plan"); }
  /* An explicit path (hooks) comes first; envp is the tail of strs, already NULL-terminated by the
   * decoder; argv needs its own terminator. */
  char **strs = s->strs + has_path;
  char *argv[argc + 1];
  for (int i = 0; i < argc; i++) argv[i] = strs[i];
  argv[argc] = NULL;
  struct exec_args a = {argv, strs + argc};
  const char *file = has_path ? s->strs[0] : argv[0];
  if (check_only) {
    int rc = search_program(file, a.envp, try_access, NULL);
    if (rc < 0) { errno = -rc; FAIL("access"); }
    return 0;
  }
  /* Undo what Node did to the descriptors we pass on: it marks its stdio close-on-exec (the
   * container would start with no stdin/stdout/stderr) and libuv may have made them non-blocking. */
  for (int fd = 0; fd < 3; fd++) {
    int fdflags = fcntl(fd, F_GETFD);
    if (fdflags >= 0 && (fdflags & FD_CLOEXEC)) fcntl(fd, F_SETFD, fdflags & ~FD_CLOEXEC);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  send_report(TSRUN_REPORT_EXEC, index, 0, 0, now_ns(), 0, -1);
  int rc = search_program(file, a.envp, try_execve, &a);
  errno = -rc;
  FAIL("execve");
}

/* fds a plan keeps across steps (e.g. the exec fifo, opened before pivot_root hides its path). */
#define SLOTS 8
static int g_slots[SLOTS] = {-1, -1, -1, -1, -1, -1, -1, -1};

static int step_open_keep(const struct step *s) {
  int slot = (int)s->ints[1];
  if (slot < 0 || slot >= SLOTS) { errno = EINVAL; FAIL("plan"); }
  int fd = open(s->strs[0], (int)s->ints[0] | O_CLOEXEC);
  if (fd < 0) FAIL("open");
  g_slots[slot] = fd;
  return 0;
}

/* `tsrun start` writes a byte into the exec fifo. The child holds the fifo open for writing too, so
 * the read below can never see EOF: it waits for `start`, however long that takes. */
static int step_wait_read(const struct step *s, int index) {
  int slot = (int)s->ints[0];
  if (slot < 0 || slot >= SLOTS || g_slots[slot] < 0) { errno = EBADF; FAIL("plan"); }
  send_report(TSRUN_REPORT_WAITING, index, 0, 0, now_ns(), 0, -1);
  char b;
  ssize_t n;
  while ((n = read(g_slots[slot], &b, 1)) < 0 && errno == EINTR) {}
  if (n < 0) FAIL("read");
  close(g_slots[slot]);
  g_slots[slot] = -1;
  return 0;
}

/*
 * Installs the seccomp filter the plan carries: ints[0] is the flags, each later int one instruction.
 * The ints are this child's private copy, and a struct sock_filter is 8 bytes like an int64, so the
 * program is unpacked in place. seccomp(2) first; prctl(PR_SET_SECCOMP) on kernels without it.
 */
static int step_seccomp(const struct step *s) {
  if (s->n_int < 2 || s->n_int - 1 > BPF_MAXINSNS) { errno = EINVAL; FAIL("plan"); }
  unsigned n = s->n_int - 1u;
  struct sock_filter *prog = (struct sock_filter *)(void *)(s->ints + 1);
  for (unsigned i = 0; i < n; i++) {
    uint64_t v = (uint64_t)s->ints[1 + i];
    struct sock_filter insn = {(uint16_t)v, (uint8_t)(v >> 16), (uint8_t)(v >> 24), (uint32_t)(v >> 32)};
    memcpy(&prog[i], &insn, sizeof insn);
  }
  struct sock_fprog fprog = {(unsigned short)n, prog};
  unsigned flags = (unsigned)s->ints[0];
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog) == 0) return 0;
  if (errno != ENOSYS || flags != 0) FAIL("seccomp");
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) FAIL("prctl(PR_SET_SECCOMP)");
  return 0;
}

/*
 * A new network namespace gets one device, `lo`, and the kernel leaves it down: the container could
 * not reach even its own 127.0.0.1. runc and crun bring it up for a new namespace too. SIOCSIFFLAGS on
 * any socket of the namespace is enough (netdevice(7)); no `ip` binary is needed in the rootfs.
 */
static int step_loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) FAIL("socket(AF_INET)");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  int rc = ioctl(s, SIOCGIFFLAGS, &ifr);
  const char *what = "ioctl(SIOCGIFFLAGS)";
  if (rc == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    rc = ioctl(s, SIOCSIFFLAGS, &ifr);
    what = "ioctl(SIOCSIFFLAGS)";
  }
  int e = errno;
  close(s);
  if (rc < 0) { errno = e; FAIL(what); }
  return 0;
}

/*
 * chdir, then the check runc 1.1.12 added for CVE-2024-21626: a directory reached through a leaked
 * fd or a magic link (/proc/self/fd/N, /proc/<pid>/cwd, /proc/<pid>/root) may lie outside the
 * process's root, and the raw getcwd syscall then returns a path that does not start with '/'
 * ("(unreachable)/…"). EXDEV with getcwd names that case for the parent.
 */
static int step_chdir(const struct step *s) {
  if (chdir(s->strs[0]) < 0) FAIL("chdir");
  char cwd[4096];
  if (syscall(SYS_getcwd, cwd, sizeof cwd) < 0) FAIL("getcwd");
  if (cwd[0] != '/') {
    errno = EXDEV;
    FAIL("getcwd");
  }
  return 0;
}

/* ------------------------------------------------------------------ tsrun-init: file work beneath a directory
 * Steps for plans that only change files (an image layer's owners, a tree to remove) in a user
 * namespace whose maps give its root the ids the files need. The directory comes from openRoot; every
 * path is resolved beneath it by the kernel: no symlink followed, no `..` out of it, no other mount. */

static int open_beneath(const char *path, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  return (int)syscall(SYS_openat2, g_root_fd, *path ? path : ".", &how, sizeof how);
}

/* lchown, then chmod when asked (a chown clears setuid and setgid): never through a symlink, and a
 * symlink itself gets no chmod (chmod would follow it). */
static int step_chown_beneath(const struct step *s) {
  if (s->n_str < 1 || s->n_int < 3 || g_root_fd < 0) { errno = EINVAL; FAIL("plan"); }
  int fd = open_beneath(s->strs[0], O_PATH | O_NOFOLLOW);
  if (fd < 0) FAIL("openat2(RESOLVE_BENEATH)");
  int rc = fchownat(fd, "", (uid_t)s->ints[0], (gid_t)s->ints[1], AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  const char *what = "fchownat";
  if (rc == 0 && s->ints[2] >= 0) {
    struct stat st;
    rc = fstat(fd, &st);
    what = "fstat";
    if (rc == 0 && !S_ISLNK(st.st_mode)) {
      /* An O_PATH fd cannot be fchmod'ed; its /proc/self/fd path names the inode itself. */
      char p[32];
      fd_path(p, fd);
      rc = chmod(p, (mode_t)s->ints[2]);
      what = "chmod";
    }
  }
  int e = errno;
  close(fd);
  if (rc < 0) { errno = e; FAIL(what); }
  return 0;
}

/* setxattr of a binary value, never on or through a symlink. In a user namespace the kernel stores
 * security.capability for it (v3: effective where the namespace's root is the same host uid). */
static int step_setxattr_beneath(const struct step *s) {
  if (s->n_str < 2 || s->n_int < 1 || g_root_fd < 0) { errno = EINVAL; FAIL("plan"); }
  uint64_t len = (uint64_t)s->ints[0];
  if (len > (uint64_t)(s->n_int - 1) * 8) { errno = EINVAL; FAIL("plan"); }
  int fd = open_beneath(s->strs[0], O_PATH | O_NOFOLLOW);
  if (fd < 0) FAIL("openat2(RESOLVE_BENEATH)");
  struct stat st;
  int rc = fstat(fd, &st);
  const char *what = "fstat";
  if (rc == 0) {
    what = "setxattr";
    if (S_ISLNK(st.st_mode)) { rc = -1; errno = ELOOP; }
    else {
      char p[32];
      fd_path(p, fd);
      rc = setxattr(p, s->strs[1], &s->ints[1], (size_t)len, 0);
    }
  }
  int e = errno;
  close(fd);
  if (rc < 0) { errno = e; FAIL(what); }
  return 0;
}

struct dirent64_raw { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; };
struct dir_id { dev_t dev; ino_t ino; };

/*
 * rm -rf of `name` in directory `top`. Iterative, holding one directory fd at a time: what a
 * container made can nest deeper than any stack or fd limit. It goes down into a directory that is
 * not empty (O_NOFOLLOW, same device only), and back up through "..", which must be the directory it
 * came from (device and inode), then reads that one again: its emptied child now goes with rmdir.
 */
static int remove_tree_at(int top, const char *name) {
  if (unlinkat(top, name, 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR) FAIL("unlinkat");
  struct dir_id *up = NULL;
  size_t depth = 0, cap = 0;
  int cur = -1, rc = 0, top_tries = 0;
  char buf[8192];
  struct stat st;
  for (;;) {
    if (cur < 0) {
      if (unlinkat(top, name, AT_REMOVEDIR) == 0 || errno == ENOENT) break;
      if ((errno != ENOTEMPTY && errno != EEXIST) || ++top_tries > 8) { g_syscall = "unlinkat(AT_REMOVEDIR)"; rc = -errno; break; }
      cur = openat(top, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cur < 0) { g_syscall = "openat"; rc = -errno; break; }
    }
    int child = -1;
    if (lseek(cur, 0, SEEK_SET) < 0) { g_syscall = "lseek"; rc = -errno; break; }
    for (;;) {
      long n = syscall(SYS_getdents64, cur, buf, sizeof buf);
      if (n < 0) { g_syscall = "getdents64"; rc = -errno; break; }
      if (n == 0) break;
      for (long off = 0; off < n && child < 0 && rc == 0;) {
        struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
        off += d->reclen;
        if (strcmp(d->name, ".") == 0 || strcmp(d->name, "..") == 0) continue;
        if (unlinkat(cur, d->name, 0) == 0 || errno == ENOENT) continue;
        if (errno != EISDIR) { g_syscall = "unlinkat"; rc = -errno; break; }
        if (unlinkat(cur, d->name, AT_REMOVEDIR) == 0 || errno == ENOENT) continue;
        if (errno != ENOTEMPTY && errno != EEXIST) { g_syscall = "unlinkat(AT_REMOVEDIR)"; rc = -errno; break; }
        struct stat here, below;
        child = openat(cur, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child < 0) { g_syscall = "openat"; rc = -errno; break; }
        if (fstat(cur, &here) < 0 || fstat(child, &below) < 0) { g_syscall = "fstat"; rc = -errno; break; }
        if (here.st_dev != below.st_dev) { g_syscall = "openat"; rc = -EXDEV; break; } /* a mount: never crossed */
        if (depth == cap) {
          cap = cap ? cap * 2 : 64;
          struct dir_id *more = realloc(up, cap * sizeof *up);
          if (!more) { g_syscall = "realloc"; rc = -ENOMEM; break; }
          up = more;
        }
        up[depth].dev = here.st_dev;
        up[depth].ino = here.st_ino;
        depth++;
      }
      if (child >= 0 || rc < 0) break;
    }
    if (rc < 0) { if (child >= 0) close(child); break; }
    if (child >= 0) { close(cur); cur = child; continue; }
    /* cur is empty: its parent rmdirs it on its next pass. */
    if (depth == 0) { close(cur); cur = -1; continue; }
    int parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) { g_syscall = "openat(..)"; rc = -errno; break; }
    depth--;
    if (fstat(parent, &st) < 0 || st.st_dev != up[depth].dev || st.st_ino != up[depth].ino) {
      close(parent);
      g_syscall = "openat(..)";
      rc = -ESTALE; /* the tree moved while it was being removed */
      break;
    }
    close(cur);
    cur = parent;
  }
  if (cur >= 0) close(cur);
  free(up);
  return rc;
}

static int step_remove_tree(const struct step *s) {
  if (s->n_str < 1 || g_root_fd < 0) { errno = EINVAL; FAIL("plan"); }
  char buf[4096];
  size_t n = strlen(s->strs[0]);
  if (n >= sizeof buf) { errno = ENAMETOOLONG; FAIL("openat2"); }
  memcpy(buf, s->strs[0], n + 1);
  char *slash = strrchr(buf, '/');
  const char *name = slash ? slash + 1 : buf;
  if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) { errno = EINVAL; FAIL("plan"); }
  if (slash) *slash = 0;
  int dir = open_beneath(slash ? buf : "", O_PATH | O_DIRECTORY);
  if (dir < 0) {
    if (errno == ENOENT) return 0;
    FAIL("openat2(RESOLVE_BENEATH)");
  }
  int rc = remove_tree_at(dir, name);
  close(dir);
  return rc;
}

static int run_step(const struct step *s, int index) {
  switch (s->op) {
  case TSRUN_OP_MOUNT: return step_mount(s);
  case TSRUN_OP_UMOUNT:
    if (umount2(s->strs[0], (int)s->ints[0]) < 0) FAIL("umount2");
    return 0;
  case TSRUN_OP_OPEN_ROOT:
    g_root_fd = open(s->strs[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (g_root_fd < 0) FAIL("open");
    return 0;
  case TSRUN_OP_MKDIR: return step_mkdir(s);
  case TSRUN_OP_MKNOD: return step_mknod(s);
  case TSRUN_OP_SYMLINK: return step_symlink(s);
  case TSRUN_OP_CHDIR: return step_chdir(s);
  case TSRUN_OP_PIVOT_ROOT:
    if (syscall(SYS_pivot_root, s->strs[0], s->strs[1]) < 0) FAIL("pivot_root");
    return 0;
  case TSRUN_OP_CHROOT:
    if (chroot(s->strs[0]) < 0) FAIL("chroot");
    return 0;
  case TSRUN_OP_SETHOSTNAME:
    if (sethostname(s->strs[0], strlen(s->strs[0])) < 0) FAIL("sethostname");
    return 0;
  case TSRUN_OP_SETDOMAINNAME:
    if (setdomainname(s->strs[0], strlen(s->strs[0])) < 0) FAIL("setdomainname");
    return 0;
  case TSRUN_OP_WRITE_FILE: return step_write_file(s);
  case TSRUN_OP_SETRLIMIT: {
    struct rlimit rl = {(rlim_t)s->ints[1], (rlim_t)s->ints[2]};
    if (setrlimit((int)s->ints[0], &rl) < 0) FAIL("setrlimit");
    return 0;
  }
  case TSRUN_OP_PRCTL:
    if (prctl((int)s->ints[0], (unsigned long)s->ints[1], (unsigned long)s->ints[2], (unsigned long)s->ints[3],
              (unsigned long)s->ints[4]) < 0)
      FAIL("prctl");
    return 0;
  case TSRUN_OP_BOUNDING: return step_bounding(s);
  case TSRUN_OP_CAPSET: return step_capset(s);
  case TSRUN_OP_AMBIENT: return step_ambient(s);
  case TSRUN_OP_SETGROUPS: return step_setgroups(s);
  /* The kernel clears the parent-death signal when credentials change: set it again. */
  case TSRUN_OP_SETRESGID:
    if (syscall(SYS_setresgid, (gid_t)s->ints[0], (gid_t)s->ints[0], (gid_t)s->ints[0]) < 0) FAIL("setresgid");
    if (g_pdeathsig) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    return 0;
  case TSRUN_OP_SETRESUID:
    if (syscall(SYS_setresuid, (uid_t)s->ints[0], (uid_t)s->ints[0], (uid_t)s->ints[0]) < 0) FAIL("setresuid");
    if (g_pdeathsig) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    return 0;
  case TSRUN_OP_MASK: return step_mask(s);
  case TSRUN_OP_REOPEN_DEV_NULL: return step_reopen_dev_null();
  case TSRUN_OP_FCHDIR: {
    /* The old root after pivot_root(".", "."): "." from the new root's cwd names the new root, not
     * the old one stacked on it, so the old root is reached through an fd taken before the pivot
     * (as runc does). The fd goes at once; a chdir to "/" follows the detach, checked as any chdir. */
    int slot = (int)s->ints[0];
    if (slot < 0 || slot >= SLOTS || g_slots[slot] < 0) { errno = EBADF; FAIL("plan"); }
    int rc = fchdir(g_slots[slot]);
    int e = errno;
    close(g_slots[slot]);
    g_slots[slot] = -1;
    if (rc < 0) { errno = e; FAIL("fchdir"); }
    return 0;
  }
  case TSRUN_OP_CONSOLE: return step_console(s);
  case TSRUN_OP_SETSID:
    if (setsid() < 0) FAIL("setsid");
    return 0;
  case TSRUN_OP_UMASK:
    umask((mode_t)s->ints[0]);
    return 0;
  case TSRUN_OP_EXEC: return step_exec(s, index, 0);
  case TSRUN_OP_CHECK_EXEC: return step_exec(s, index, 1);
  case TSRUN_OP_CHOWN: return step_chown_chmod(s, 1);
  case TSRUN_OP_CHMOD: return step_chown_chmod(s, 0);
  case TSRUN_OP_WAIT_PARENT:
    send_report(TSRUN_REPORT_WAITING, index, 0, 0, now_ns(), 0, -1);
    return wait_parent();
  case TSRUN_OP_OPEN_KEEP: return step_open_keep(s);
  case TSRUN_OP_NEW_KEYRING:
    /* KEYCTL_JOIN_SESSION_KEYRING (1). ENOSYS: a kernel without keys, nothing to isolate. */
    if (syscall(SYS_keyctl, 1, s->strs[0]) < 0 && errno != ENOSYS) FAIL("keyctl(KEYCTL_JOIN_SESSION_KEYRING)");
    return 0;
  case TSRUN_OP_STDIN_FROM:
    /* The parent opened the file before any namespace was joined, so its path need not be visible
     * here; dup2 clears close-on-exec on fd 0 only. */
    if (dup2((int)s->ints[0], 0) < 0) FAIL("dup2");
    return 0;
  case TSRUN_OP_DUP_FD:
    /* A pipe of the library's caller becomes stdin, stdout or stderr; dup2 clears close-on-exec on
     * the target only, so the original (marked close-on-exec at the start) ends at the exec. */
    if (s->n_int < 2 || s->ints[1] > 2) { errno = EINVAL; FAIL("plan"); }
    if (dup2((int)s->ints[0], (int)s->ints[1]) < 0) FAIL("dup2");
    return 0;
  case TSRUN_OP_WAIT_READ: return step_wait_read(s, index);
  case TSRUN_OP_SECCOMP: return step_seccomp(s);
  case TSRUN_OP_LOOPBACK_UP: return step_loopback_up();
  case TSRUN_OP_CHOWN_BENEATH: return step_chown_beneath(s);
  case TSRUN_OP_REMOVE_TREE: return step_remove_tree(s);
  case TSRUN_OP_SETXATTR_BENEATH: return step_setxattr_beneath(s);
  case TSRUN_OP_EXIT: _exit(s->n_int ? (int)s->ints[0] : 0);
  case TSRUN_OP_UNSHARE:
    /* unshare(CLONE_NEWTIME) puts only this process's future children there (time_for_children):
     * the offsets are written while it is still empty, then stage1_main clones into it. A cgroup
     * namespace is made here once the process is in its cgroup (its root is the cgroup it is in). */
    if (unshare((int)s->ints[0]) < 0) FAIL("unshare");
    return 0;
  case TSRUN_OP_SETNS: {
    int fd = open(s->strs[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0) FAIL("open");
    int rc = setns(fd, (int)s->ints[0]);
    int e = errno;
    close(fd);
    if (rc < 0) { errno = e; FAIL("setns"); }
    return 0;
  }
  default:
    errno = EINVAL;
    FAIL("plan");
  }
}

/* ------------------------------------------------------------------ tsrun-init: the container process */

/*
 * Closes every fd but 0-2, the preserved range 3..3+N-1 (fds of tsrun's caller that the config hands
 * to the container), the sync socket, `extra` and the fds the plan names. Closed, not marked
 * close-on-exec: a directory fd that is still open while the plan resolves paths and chdirs is a
 * way out of the root (CVE-2024-21626: process.cwd = /proc/self/fd/N, then `..`). Whatever tsrun's
 * caller left inheritable crossed the exec of tsrun-init; here it ends, before the first path.
 */
static int close_unlisted_fds(const struct plan *pl, int sync_fd, int extra) {
  int keep[TSRUN_MAX_PASS_FDS + 2];
  int n = 0;
  keep[n++] = sync_fd;
  if (extra >= 0) keep[n++] = extra;
  for (uint32_t i = 0; i < pl->n_pass; i++) keep[n++] = pl->pass_fds[i];
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) { int t = keep[j]; keep[j] = keep[j - 1]; keep[j - 1] = t; }
  unsigned lo = 3 + pl->preserve_fds;
  for (int i = 0; i < n; i++) {
    if (keep[i] < 0 || (unsigned)keep[i] < lo) continue;
    if ((unsigned)keep[i] > lo && syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0) < 0) return -errno;
    lo = (unsigned)keep[i] + 1;
  }
  if (syscall(SYS_close_range, lo, ~0U, 0) < 0) return -errno;
  return 0;
}

static void reset_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  /* Node ignores SIGPIPE, and an ignored signal stays ignored across execve: none of tsrun's
   * dispositions may reach the container's program. */
  for (int sig = 1; sig < _NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, NULL);
}

/*
 * Runs the plan's steps in order (those of a first stage are skipped: stage1_main ran them), with a
 * report of each when `trace`. Returns 0, or -1 once a failed step is reported.
 */
static int run_steps(const struct plan *pl, int trace) {
  for (uint32_t i = 0; i < pl->n_steps; i++) {
    const struct step *s = &pl->steps[i];
    if (s->flags & TSRUN_STEP_BEFORE_CLONE) continue;
    uint64_t t0 = trace ? now_ns() : 0;
    int rc = run_step(s, (int)i);
    if (rc == -ENOENT && (s->flags & TSRUN_STEP_OPTIONAL)) {
      if (trace) send_report(TSRUN_REPORT_SKIPPED, (int)i, ENOENT, 0, t0, now_ns(), -1);
      continue;
    }
    if (rc < 0) {
      send_report(TSRUN_REPORT_STEP_FAILED, (int)i, -rc, 0, t0, now_ns(), -1);
      return -1;
    }
    if (trace) send_report(TSRUN_REPORT_STEP_OK, (int)i, 0, 0, t0, now_ns(), -1);
  }
  return 0;
}

/*
 * The container process: runs the plan, then execs. `cgroup_fd`: the container's cgroup directory,
 * inherited from the first stage of a two-stage spawn (CLONE_INTO_CGROUP needed it), or -1.
 */
static _Noreturn void child_main(struct plan *pl, int cgroup_fd) {
  /* A directory of the host: gone before anything else happens here. */
  if (cgroup_fd >= 0) close(cgroup_fd);
  reset_signals();
  /* Until the container's program replaces it, nothing in the container may open this process's
   * /proc/<pid>/exe, mem or fds (CVE-2019-5736 class). tsrun-init's main set it already (its own
   * execve made it dumpable again); a clone inherits it. The final execve resets it.
   * Rootless, the first stage cloned this process dumpable (stage1_main): a non-dumpable process's
   * /proc/PID files belong to root, so neither the unprivileged tsrun nor newuidmap could write its
   * uid_map. It is dumpable only until the go-ahead, which comes once the maps are written; nothing
   * else is in its namespaces yet, no step has run, and it runs a read-only tsrun-init. */
  int dumpable_until_go = (pl->flags & TSRUN_PLAN_DUMPABLE_UNTIL_GO) && (pl->flags & TSRUN_PLAN_WAIT_GO);
  if (!dumpable_until_go) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  g_pdeathsig = (pl->flags & TSRUN_PLAN_PDEATHSIG) != 0;
  if (g_pdeathsig) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* What is left besides 0-2 and the preserved range (the sync socket, the fds the plan names) is
   * used by the steps but must not reach the container's program. */
  syscall(SYS_close_range, 3 + pl->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  umask(0);
  if ((pl->flags & TSRUN_PLAN_WAIT_GO) && wait_parent() < 0) _exit(126);
  if (dumpable_until_go && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) _exit(126);
  if (run_steps(pl, (pl->flags & TSRUN_PLAN_TRACE) != 0) < 0) _exit(127);
  /* A plan must end in exec; reaching here is a planning bug. */
  g_syscall = "plan";
  send_report(TSRUN_REPORT_STEP_FAILED, (int)pl->n_steps, EINVAL, 0, 0, 0, -1);
  _exit(127);
}

/* fork-like clone (of tsrun-init, a small process): the child returns 0 on this same stack. */
static pid_t clone_child(uint64_t flags, int cgroup_fd) {
  if (cgroup_fd >= 0) {
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_INTO_CGROUP;
    /* clone3 refuses an exit signal with CLONE_PARENT: the child then inherits its parent's. */
    args.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    return (pid_t)syscall(SYS_clone3, &args, sizeof args);
  }
  return (pid_t)syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), 0, 0, 0, 0);
}

/*
 * The first stage of a two-stage spawn, for plans that join namespaces (`exec`, hooks that run in
 * the container, a config naming namespace paths), make a user namespace or a time namespace (whose
 * steps, TSRUN_STEP_BEFORE_CLONE, run here: unshare, then the offsets). Joining a PID namespace
 * only moves children, and an execve in a new user namespace before the parent wrote uid_map would
 * drop every capability; so this process (tsrun-init in tsrun's namespaces, single-threaded, never
 * Node: setns into a mount or user namespace needs that) joins, then clones the container process
 * with CLONE_PARENT, so that it is Node's child (Node waits for it and writes its id maps), reports
 * its pid and exits.
 */
static _Noreturn void stage1_main(struct plan *pl, int cgroup_fd) {
  /* Open every namespace first: once the mount namespace is joined, /proc is the container's and
   * the /proc/<host pid>/ns/ paths no longer resolve. */
  int fds[16];
  for (uint32_t i = 0; i < pl->n_joins; i++) {
    fds[i] = open(pl->joins[i].path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) {
      g_syscall = "open(namespace)";
      send_report(TSRUN_REPORT_STEP_FAILED, -2 - (int)i, errno, 0, 0, 0, -1);
      _exit(127);
    }
  }
  for (uint32_t i = 0; i < pl->n_joins; i++) {
    if (setns(fds[i], (int)pl->joins[i].nstype) < 0) {
      g_syscall = "setns";
      send_report(TSRUN_REPORT_STEP_FAILED, -2 - (int)i, errno, 0, 0, 0, -1);
      _exit(127);
    }
    close(fds[i]);
  }
  /* Steps that must precede the container process (a new time namespace: its offsets can be written
   * only while no process is in it, and the clone below is what puts the first one there). */
  int trace = (pl->flags & TSRUN_PLAN_TRACE) != 0;
  for (uint32_t i = 0; i < pl->n_steps; i++) {
    const struct step *s = &pl->steps[i];
    if (!(s->flags & TSRUN_STEP_BEFORE_CLONE)) continue;
    uint64_t t0 = trace ? now_ns() : 0;
    int rc = run_step(s, (int)i);
    if (rc < 0) {
      send_report(TSRUN_REPORT_STEP_FAILED, (int)i, -rc, 0, t0, now_ns(), -1);
      _exit(127);
    }
    if (trace) send_report(TSRUN_REPORT_STEP_OK, (int)i, 0, 0, t0, now_ns(), -1);
  }
  /* Rootless: the container process must be born dumpable (child_main says why); dumpability is the
   * mm's, which the clone copies. This process exits right after reporting the pid. */
  int dumpable = (pl->flags & TSRUN_PLAN_DUMPABLE_UNTIL_GO) && (pl->clone_flags & CLONE_NEWUSER);
  if (dumpable) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  pid_t pid = clone_child(pl->clone_flags | CLONE_PARENT, cgroup_fd);
  if (pid == 0) child_main(pl, cgroup_fd);
  if (dumpable) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (pid < 0) {
    g_syscall = cgroup_fd >= 0 ? "clone3" : "clone";
    send_report(TSRUN_REPORT_STEP_FAILED, -1, errno, 0, 0, 0, -1);
    _exit(127);
  }
  send_report(TSRUN_REPORT_PID, -1, 0, pid, 0, 0, -1);
  _exit(0);
}

/* Reports a failure before the first step (step -1: "creating the container process failed"). */
static _Noreturn void init_fail(const char *what, int err) {
  g_syscall = what;
  send_report(TSRUN_REPORT_STEP_FAILED, -1, err, 0, 0, 0, -1);
  _exit(127);
}

/* A decimal fd number, or -1. */
static int parse_fd(const char *s) {
  long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 1 << 24) return -1;
    v = v * 10 + (*s - '0');
  }
  return (int)v;
}

/*
 * Joins ns_fd's network namespace (a pidfd or a namespace file). A user (rootless) may not do that
 * from its own user namespace, where it lacks CAP_SYS_ADMIN: it joins the namespace's owner first,
 * its container's, where it has every capability (as exec does). Root never gets there.
 */
static int connector_join(int ns_fd) {
  if (setns(ns_fd, CLONE_NEWNET) == 0) return 0;
  if (errno != EPERM) return -1;
  if (setns(ns_fd, CLONE_NEWUSER | CLONE_NEWNET) == 0) return 0;
  int user = ioctl(ns_fd, NS_GET_USERNS); /* a namespace file: its owner; a pidfd got EINVAL above */
  if (user < 0) return -1;
  int rc = setns(user, CLONE_NEWUSER);
  close(user);
  return rc < 0 ? rc : setns(ns_fd, CLONE_NEWNET);
}

/* A request of family 0 asks for the connector's own namespace (port: 1 net, 2 user), which a
 * user-mode network helper (slirp4netns) then joins by fd: it could not open the container init's
 * /proc/PID/ns files itself (a user may not, once that process is not dumpable). */
static int connector_ns_fd(uint32_t which) {
  const char *path = which == 1 ? "/proc/self/ns/net" : which == 2 ? "/proc/self/ns/user" : NULL;
  if (!path) { errno = EINVAL; return -1; }
  return open(path, O_RDONLY | O_CLOEXEC);
}

/*
 * tsrun-init connect SOCK_FD NS_FD (started by tsrun_spawn_connector): joins the network namespace
 * and answers each request on SOCK_FD with a socket connected there, or the errno. Only the network
 * namespace changes (for a user, its owner user namespace too: connector_join): the connector stays
 * in tsrun's mount and pid namespaces, never runs anything of the container's, and is not dumpable,
 * so the container cannot reach into it.
 */
static _Noreturn void connector_main(int sock, int ns_fd) {
  if (connector_join(ns_fd) < 0) _exit(3);
  close(ns_fd);
  /* Nothing of tsrun's but the socket (and stdio) stays open here. */
  if (sock > 3) syscall(SYS_close_range, 3, (unsigned)sock - 1, 0);
  syscall(SYS_close_range, (unsigned)sock + 1, ~0U, 0);
  for (;;) {
    struct tsrun_connect_request rq;
    ssize_t n;
    while ((n = recv(sock, &rq, sizeof rq, 0)) < 0 && errno == EINTR) {}
    if (n <= 0) _exit(0);
    struct tsrun_connect_reply rep;
    memset(&rep, 0, sizeof rep);
    int fd = -1;
    if (n == (ssize_t)sizeof rq && rq.family == 0) {
      if ((fd = connector_ns_fd(rq.port)) < 0) {
        rep.err = errno;
        copy_name(rep.syscall, "open", sizeof rep.syscall);
      }
    } else if (n != (ssize_t)sizeof rq || (rq.family != AF_INET && rq.family != AF_INET6) || rq.port == 0 || rq.port > 65535) {
      rep.err = EINVAL;
      copy_name(rep.syscall, "request", sizeof rep.syscall);
    } else if ((fd = socket((int)rq.family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
      rep.err = errno;
      copy_name(rep.syscall, "socket", sizeof rep.syscall);
    } else {
      if (rq.timeout_ms > 0) {
        struct timeval tv = {rq.timeout_ms / 1000, (rq.timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      }
      struct sockaddr_storage sa;
      memset(&sa, 0, sizeof sa);
      socklen_t len;
      if (rq.family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&sa;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)rq.port);
        memcpy(&in->sin_addr, rq.addr, 4);
        len = sizeof *in;
      } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)rq.port);
        memcpy(&in6->sin6_addr, rq.addr, 16);
        len = sizeof *in6;
      }
      int rc;
      while ((rc = connect(fd, (struct sockaddr *)&sa, len)) < 0 && errno == EINTR) {}
      if (rc < 0) {
        rep.err = errno == EINPROGRESS || errno == EAGAIN ? ETIMEDOUT : errno;
        copy_name(rep.syscall, "connect", sizeof rep.syscall);
        close(fd);
        fd = -1;
      } else if (rq.timeout_ms > 0) {
        struct timeval none = {0, 0};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
      }
    }
    ssize_t sent = send_with_fd(sock, &rep, sizeof rep, fd);
    if (fd >= 0) close(fd);
    if (sent < 0) _exit(0);
  }
}

/*
 * tsrun-init SYNC_FD PLAN_FD run|spawn CGROUP_FD|-1: started by tsrun_spawn (below) and never by
 * hand. `run`: this process was cloned in the container's new namespaces and cgroup and runs the
 * plan; `spawn`: it is the first stage of a two-stage spawn (stage1_main).
 */
void tsrun_init_mode(int argc, char **argv); /* init-modes.c: `init` (a container's PID 1) and `reap` */

/* Reads the plan tsrun put in the memfd `plan_fd`, closes it and decodes it into *pl; any failure ends this process, reported. */
static void read_plan(int plan_fd, struct plan *pl) {
  struct stat st;
  if (fstat(plan_fd, &st) < 0) init_fail("fstat(plan)", errno);
  uint8_t *buf = malloc((size_t)st.st_size + 1);
  if (!buf) init_fail("malloc(plan)", ENOMEM);
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = pread(plan_fd, buf + done, (size_t)(st.st_size - done), done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) init_fail("read(plan)", n < 0 ? errno : EIO);
    done += n;
  }
  close(plan_fd);
  int bad_step;
  int rc = decode_plan(buf, (uint32_t)st.st_size, pl, &bad_step);
  free(buf);
  if (rc < 0) {
    free_plan(pl);
    init_fail("decode plan", -rc);
  }
}

/*
 * A warm init (tsrun_spawn_warm): cloned ahead of use in new namespaces and in the cgroup its
 * container will have, it waits here for messages on the sync socket, each a header
 * (tsrun_warm_header) with a plan's memfd and fds attached (SCM_RIGHTS):
 *  - TSRUN_WARM_AHEAD_MAGIC, at most once, while no container has taken it (tsrun_warm_ahead): steps
 *    to run at once, the share of the next container's set-up that needs neither its id nor its fds
 *    (warm_ahead);
 *  - TSRUN_WARM_MAGIC: the container's plan and the numbers its fds must get. It puts each fd at
 *    its number, then is exactly the one-stage child of tsrun_spawn.
 * EOF instead (tsrun discarded it, or died): it leaves its cgroup for the hierarchy's root and
 * removes it, so that a killed test process leaves no cgroup behind. The same when the thread of
 * tsrun's that made it ends (`owner`, a pidfd of that thread, or -1 on kernels without thread pidfds,
 * before 6.9): a worker thread that is terminated closes none of its fds, which stay open in the
 * process, so no EOF comes. It does the same, at once,
 * when tsrun's mount table changes (POLLPRI on `host_mounts`, tsrun's /proc/self/mountinfo): its
 * copy of that table, taken at the clone, would keep what the host unmounts alive (a loop device
 * stays busy, a network namespace bind-mounted by `ip netns` lives on with its interfaces), and
 * tsrun would not use it anyway (warmFits).
 */
static int g_host_mnt = -1;

static _Noreturn void warm_leave(const char *cgroup_dir, const char *root_procs) {
  /* After the steps run ahead this process is in the container's root: the host's cgroup files
   * are reached again from tsrun's mount namespace (an nsfs fd: no path leads through it). */
  if (g_host_mnt >= 0 && setns(g_host_mnt, CLONE_NEWNS) < 0) _exit(0);
  int fd = open(root_procs, O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (write(fd, "0", 1) < 0) {}
    close(fd);
    if (rmdir(cgroup_dir) < 0) {}
  }
  _exit(0);
}

/* Ops that only the container's own plan may have: a plan run ahead ends before them. */
static int waits_or_execs(uint16_t op) {
  return op == TSRUN_OP_EXEC || op == TSRUN_OP_CHECK_EXEC || op == TSRUN_OP_WAIT_PARENT || op == TSRUN_OP_WAIT_READ || op == TSRUN_OP_EXIT;
}

/*
 * A plan a warm init may run: its clone made the namespaces, so it joins none, makes no user
 * namespace and has nothing for a first stage (tsrun checks it; anything else is a planning bug).
 * One run `ahead` also takes no fd and neither waits for tsrun nor execs.
 */
static void check_warm_plan(struct plan *pl, int ahead) {
  int bad = pl->n_joins > 0 || pl->preserve_fds > 0 || (pl->clone_flags & CLONE_NEWUSER);
  if (ahead) bad = bad || pl->n_pass > 0 || (pl->flags & TSRUN_PLAN_WAIT_GO);
  for (uint32_t i = 0; !bad && i < pl->n_steps; i++)
    bad = (pl->steps[i].flags & TSRUN_STEP_BEFORE_CLONE) || (ahead && waits_or_execs(pl->steps[i].op));
  if (bad) {
    free_plan(pl);
    init_fail("decode plan", EINVAL);
  }
}

/*
 * The steps sent ahead (plan/ahead.ts: the namespaces it makes itself, lo, the hostname, the rootfs,
 * pivot_root, the lockdown), run before the container is asked for. They come without fds; of the
 * host's, only the sync socket, tsrun's mountinfo, tsrun's mount namespace and the owner thread's
 * pidfd are open meanwhile, none a directory a path could go through (CVE-2024-21626), and no program of the container's runs
 * before all of them are closed. A failed step is reported and the init leaves: tsrun then clones
 * afresh, and that clone reports the failure to the container's caller.
 */
static void warm_ahead(const struct tsrun_warm_header *h, int *fds, int n, const char *cgroup_dir, const char *root_procs) {
  if (n != 1 || h->n_fds != 0) {
    for (int i = 0; i < n; i++) close(fds[i]);
    init_fail("recvmsg(warm ahead)", EPROTO);
  }
  struct plan pl;
  read_plan(fds[0], &pl);
  check_warm_plan(&pl, 1);
  reset_signals();
  umask(0);
  if (run_steps(&pl, 0) < 0) warm_leave(cgroup_dir, root_procs);
  /* The rootfs's fd (openRoot) served the mounts; nothing after the lockdown resolves through it. */
  if (g_root_fd >= 0) close(g_root_fd);
  g_root_fd = -1;
  send_report(TSRUN_REPORT_AHEAD_DONE, (int)pl.n_steps, 0, 0, 0, 0, -1);
  free_plan(&pl);
}

/* What the steps run ahead held, now closed (close_unlisted_fds): no later step may use the numbers. */
static void forget_closed_fds(void) {
  g_root_fd = -1;
  for (int i = 0; i < SLOTS; i++) g_slots[i] = -1;
}

static _Noreturn void warm_main(int sync_fd, const char *cgroup_dir, const char *root_procs, int host_mounts, int host_mnt, int owner) {
  if (fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(host_mounts, F_SETFD, FD_CLOEXEC) < 0 || fcntl(host_mnt, F_SETFD, FD_CLOEXEC) < 0) _exit(126);
  if (owner >= 0 && fcntl(owner, F_SETFD, FD_CLOEXEC) < 0) _exit(126);
  g_host_mnt = host_mnt;
  g_sync_fd = sync_fd;
  struct tsrun_warm_header h;
  int fds[TSRUN_WARM_MAX_FDS];
  int n = 0;
  int ran_ahead = 0;
  for (;;) {
    struct pollfd p[3] = {{sync_fd, POLLIN, 0}, {host_mounts, POLLPRI, 0}, {owner, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      warm_leave(cgroup_dir, root_procs);
    }
    if (p[1].revents & (POLLPRI | POLLERR)) warm_leave(cgroup_dir, root_procs);
    if (p[2].revents) warm_leave(cgroup_dir, root_procs);
    if (!p[0].revents) continue;
    memset(&h, 0, sizeof h);
    n = 0;
    ssize_t got = recv_with_fds(sync_fd, &h, sizeof h, fds, TSRUN_WARM_MAX_FDS, &n);
    if (got == 0 || (got < 0 && got != -EPROTO)) warm_leave(cgroup_dir, root_procs);
    /* fds[0] is the plan; fds[1..] go to h.targets[0..]. Anything malformed is a planning bug of tsrun's. */
    if (got < 0 || h.n_fds + 1 != (uint32_t)n) init_fail("recvmsg(warm plan)", EPROTO);
    if (h.magic == TSRUN_WARM_AHEAD_MAGIC && !ran_ahead) {
      ran_ahead = 1;
      warm_ahead(&h, fds, n, cgroup_dir, root_procs);
      continue;
    }
    if (h.magic != TSRUN_WARM_MAGIC) init_fail("recvmsg(warm plan)", EPROTO);
    break;
  }
  /* Host fds: gone before anything of a container's. */
  close(host_mounts);
  close(host_mnt);
  if (owner >= 0) close(owner);
  g_host_mnt = -1;
  /* Everything received, and the sync socket, first above every number to be filled, so that no
   * dup2 below closes one still needed. */
  int top = sync_fd;
  for (int i = 0; i < n; i++) if (fds[i] > top) top = fds[i];
  for (uint32_t i = 0; i < h.n_fds; i++) {
    if (h.targets[i] < 0) init_fail("warm plan: fd number", EBADF);
    if (h.targets[i] > top) top = h.targets[i];
  }
  int moved = fcntl(sync_fd, F_DUPFD_CLOEXEC, top + 1);
  if (moved < 0) init_fail("fcntl(F_DUPFD_CLOEXEC)", errno);
  close(sync_fd);
  g_sync_fd = sync_fd = moved;
  for (int i = 0; i < n; i++) {
    int d = fcntl(fds[i], F_DUPFD_CLOEXEC, top + 1);
    if (d < 0) init_fail("fcntl(F_DUPFD_CLOEXEC)", errno);
    close(fds[i]);
    fds[i] = d;
  }
  for (uint32_t i = 0; i < h.n_fds; i++)
    if (dup2(fds[i + 1], h.targets[i]) < 0) init_fail("dup2(warm fd)", errno);
  for (int i = 1; i < n; i++) close(fds[i]);
  struct plan pl;
  read_plan(fds[0], &pl);
  check_warm_plan(&pl, 0);
  int rc = close_unlisted_fds(&pl, sync_fd, -1);
  if (rc < 0) init_fail("close_range", -rc);
  forget_closed_fds();
  child_main(&pl, -1);
}

int main(int argc, char **argv) {
  /* execve made this process dumpable again; nothing in a container may open its exe (see child_main). */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (argc == 4 && strcmp(argv[1], "connect") == 0) {
    int sock = parse_fd(argv[2]), ns = parse_fd(argv[3]);
    if (sock >= 3 && ns >= 3 && sock != ns) connector_main(sock, ns);
  }
  tsrun_init_mode(argc, argv);
  /* argv[7]: the owner thread's pidfd, or "-" without one. */
  if (argc == 8 && strcmp(argv[2], "warm") == 0 && parse_fd(argv[1]) >= 3 && parse_fd(argv[5]) >= 3 && parse_fd(argv[6]) >= 3 &&
      (strcmp(argv[7], "-") == 0 || parse_fd(argv[7]) >= 3))
    warm_main(parse_fd(argv[1]), argv[3], argv[4], parse_fd(argv[5]), parse_fd(argv[6]), strcmp(argv[7], "-") == 0 ? -1 : parse_fd(argv[7]));
  int sync_fd = argc == 5 ? parse_fd(argv[1]) : -1;
  int plan_fd = argc == 5 ? parse_fd(argv[2]) : -1;
  int two_stage = argc == 5 && strcmp(argv[3], "spawn") == 0;
  int cgroup_fd = argc == 5 && strcmp(argv[4], "-1") != 0 ? parse_fd(argv[4]) : -1;
  if (argc != 5 || sync_fd < 3 || plan_fd < 3 || (!two_stage && strcmp(argv[3], "run") != 0) ||
      (cgroup_fd < 0 && strcmp(argv[4], "-1") != 0) || (cgroup_fd >= 0 && !two_stage)) {
    static const char msg[] = "tsrun-init: started by tsrun for a container's set-up, not by hand\n";
    if (write(2, msg, sizeof msg - 1) < 0) {}
    return 2;
  }
  g_sync_fd = sync_fd;
  /* EOF on this socket tells tsrun that the container process exec'd. */
  if (fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) _exit(126);
  struct plan pl;
  read_plan(plan_fd, &pl);
  int rc = close_unlisted_fds(&pl, sync_fd, cgroup_fd);
  if (rc < 0) init_fail("close_range", -rc);
  if (two_stage) stage1_main(&pl, cgroup_fd);
  child_main(&pl, -1);
}
#endif /* TSRUN_INIT_PROGRAM */

#ifndef TSRUN_INIT_PROGRAM
/* ------------------------------------------------------------------ starting the container side (Node's side) */

/* recv_with_fds for at most one fd, in *fd_out (-1 when none). */
static ssize_t recv_with_fd(int sock, void *buf, size_t len, int *fd_out) {
  int count;
  ssize_t n = recv_with_fds(sock, buf, len, fd_out, 1, &count);
  if (count == 0) *fd_out = -1;
  return n;
}

/*
 * Why the container side never runs a writable host file (CVE-2019-5736 class): a process inside a
 * container can take an O_PATH fd on /proc/<pid>/exe of any process tsrun puts there and, once the
 * file no longer runs (ETXTBSY), reopen it for writing through /proc/self/fd/N. A fork of Node would
 * hand it the host's node; tsrun-init exec'd from its path, the host's tsrun-init. So tsrun-init is
 * exec'd from one of two copies the container cannot write, made once per tsrun command:
 *  - a read-only bind mount of it that is in no mount table: open_tree(OPEN_TREE_CLONE), made
 *    read-only with mount_setattr, opened O_PATH, then the tree's own fd is closed, which dissolves
 *    the mount. What is left cannot be made writable by whoever catches it: mount_setattr refuses a
 *    mount that is in no namespace, and so do bind mounts and open_tree clones of it (their source
 *    must be in the caller's namespace). It leaves nothing behind and propagates nowhere; ~0.06 ms.
 *  - where that is refused (no CAP_SYS_ADMIN, as rootless; kernels before 5.12): a sealed memfd
 *    copy (F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL), ~0.25-0.45 ms for its 0.9 MB, and
 *    its exec a little slower (bench/exe-protection.c measures both).
 */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static int g_init_fd = -1;
static int g_init_kind; /* TSRUN_INIT_READ_ONLY_MOUNT or TSRUN_INIT_SEALED_MEMFD */
static char g_init_for[4096];

/* The read-only detached bind mount of `path`, as an O_PATH fd; -errno on failure. */
static int init_read_only_mount(const char *path) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) return -errno;
  struct tsrun_mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    int e = errno;
    close(tree);
    return -e;
  }
  char p[32];
  fd_path(p, tree);
  int fd = open(p, O_PATH | O_CLOEXEC);
  int e = errno;
  /* The last fd of the tree: closing it unmounts the tree from its anonymous namespace. The O_PATH
   * fd keeps the (read-only) mount alive, and an exec from it runs a file on that mount. */
  close(tree);
  return fd < 0 ? -e : fd;
}

/* A sealed memfd copy of `path` (with its execute bits), or -errno. */
static int init_sealed_copy(const char *path) {
  int src = open(path, O_RDONLY | O_CLOEXEC);
  if (src < 0) return -errno;
  struct stat st;
  int fd = -1, e = 0;
  if (fstat(src, &st) < 0) { e = errno; goto out; }
  if (!S_ISREG(st.st_mode)) { e = EACCES; goto out; }
  fd = (int)syscall(SYS_memfd_create, "tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = (int)syscall(SYS_memfd_create, "tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) { e = errno; goto out; }
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = sendfile(fd, src, NULL, (size_t)(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { e = n < 0 ? errno : EIO; goto out; }
    done += n;
  }
  /* The copy is as executable as the file (a memfd starts 0777), and never writable again. */
  if (fchmod(fd, st.st_mode & 0555) < 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    e = errno;
out:
  close(src);
  if (e) {
    if (fd >= 0) close(fd);
    return -e;
  }
  return fd;
}

/* The fd tsrun-init is exec'd from, made on first use by this process (one tsrun command). */
static int init_program(const char *path, int sealed_copy) {
  int kind = sealed_copy ? TSRUN_INIT_SEALED_MEMFD : 0;
  if (g_init_fd >= 0 && strcmp(g_init_for, path) == 0 && (!kind || kind == g_init_kind)) return g_init_fd;
  if (g_init_fd >= 0) close(g_init_fd);
  g_init_fd = -1;
  if (strlen(path) >= sizeof g_init_for) return -ENAMETOOLONG;
  int fd = sealed_copy ? -EPERM : init_read_only_mount(path);
  g_init_kind = TSRUN_INIT_READ_ONLY_MOUNT;
  if (fd < 0) {
    fd = init_sealed_copy(path);
    g_init_kind = TSRUN_INIT_SEALED_MEMFD;
  }
  if (fd < 0) return fd;
  g_init_fd = fd;
  strcpy(g_init_for, path);
  return fd;
}

struct init_exec {
  int init_fd;
  char **argv;
  int fds[TSRUN_MAX_PASS_FDS + 8]; /* passed on: close-on-exec cleared in the child's own fd table */
  int n_fds;
  /* fds 3..3+preserve-1, the caller's (--preserve-fds): passed on too. Node marks the fds it
   * inherited close-on-exec at start (uv_disable_stdio_inheritance), so they must be cleared here. */
  int preserve;
  int err; /* set by the child when execveat fails (the memory is shared until then) */
};

/*
 * The child between clone and execveat, on a stack of its own, while the spawning thread waits (CLONE_VFORK).
 * It shares Node's memory, so it only makes syscalls: no allocation, no lock, nothing of Node's.
 */
static int exec_init_child(void *arg) {
  struct init_exec *x = arg;
  for (int i = 0; i < x->n_fds; i++) {
    int fl = fcntl(x->fds[i], F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC)) fcntl(x->fds[i], F_SETFD, fl & ~FD_CLOEXEC);
  }
  for (int fd = 3; fd < 3 + x->preserve; fd++) {
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC)) fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
  }
  char *envp[] = {NULL};
  syscall(SYS_execveat, x->init_fd, "", x->argv, envp, AT_EMPTY_PATH);
  x->err = errno ? errno : ENOEXEC;
  _exit(127);
}

/*
 * The tsrun-init fd (init_program's) is shared by the spawns of every thread: the library clones on
 * worker threads (warm inits, and containers started together) while the main thread may start
 * another. Each spawn takes its own copy of the fd under this lock, and clones with it outside.
 */
static pthread_mutex_t g_spawn_lock = PTHREAD_MUTEX_INITIALIZER;

/* A close-on-exec copy of the tsrun-init fd for one spawn (the caller closes it), or -errno. */
static int init_fd_copy(const char *path, int sealed_copy, int *kind) {
  pthread_mutex_lock(&g_spawn_lock);
  int fd = init_program(path, sealed_copy);
  if (kind) *kind = g_init_kind;
  int copy = fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (fd >= 0 && copy < 0) copy = -errno;
  pthread_mutex_unlock(&g_spawn_lock);
  return copy;
}

/* The child's stack between clone and execveat, one per spawn (the spawning thread is suspended meanwhile). */
#define TSRUN_VFORK_STACK (64 * 1024)

#if defined(__x86_64__)
#define TSRUN_HAVE_CLONE3_VFORK 1
__attribute__((used, noinline, noreturn)) static void exec_init_child_entry(struct init_exec *x) {
  exec_init_child(x);
  __builtin_unreachable();
}

/* clone3 with a stack of its own (glibc has no clone3 wrapper that takes a function): the child
 * starts on its own stack in exec_init_child_entry, so it never returns into (and overwrites) the
 * frames of the suspended parent. Returns the pid or -errno. */
static long clone3_exec(struct clone_args *args, struct init_exec *x) {
  long ret;
  register struct init_exec *arg __asm__("r12") = x;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"
      "mov %%r12, %%rdi\n\t"
      "call exec_init_child_entry\n\t"
      "ud2\n"
      "1:"
      : "=a"(ret)
      : "a"((long)SYS_clone3), "D"(args), "S"(sizeof *args), "r"(arg)
      : "rcx", "r11", "memory");
  return ret;
}
#else
#define TSRUN_HAVE_CLONE3_VFORK 0
#endif

/* `fd`, or a close-on-exec duplicate of it numbered at least `min` (then `fd` is closed): the
 * preserved fds 3..min-1 are the caller's to pass on, tsrun's own must not sit there. -errno on
 * failure (fd closed too). */
static int fd_at_least(int fd, int min) {
  if (fd < 0 || fd >= min) return fd;
  int d = fcntl(fd, F_DUPFD_CLOEXEC, min);
  int e = errno;
  close(fd);
  return d < 0 ? -e : d;
}

/* A memfd holding the plan, for tsrun-init to read, numbered at least `min`; -errno on failure. */
static int plan_memfd(const uint8_t *buf, uint32_t len, int min) {
  int fd = (int)syscall(SYS_memfd_create, "tsrun-plan", MFD_CLOEXEC);
  if (fd < 0) return -errno;
  for (uint32_t done = 0; done < len;) {
    ssize_t n = write(fd, buf + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { int e = n < 0 ? errno : EIO; close(fd); return -e; }
    done += (uint32_t)n;
  }
  return fd_at_least(fd, min);
}

/*
 * Clones the child that execs tsrun-init (x): in new namespaces (`flags`) and, with clone3's
 * CLONE_INTO_CGROUP, in the container's cgroup when cgroup_fd >= 0 (writing cgroup.procs instead
 * costs an RCU grace period, ~10 ms). Returns its pid, or -errno with *what naming the call.
 */
static pid_t clone_init(struct init_exec *x, uint64_t flags, int cgroup_fd, int *used_clone3, const char **what) {
  char *stack = malloc(TSRUN_VFORK_STACK);
  if (!stack) return -ENOMEM;
  /* Block every signal across clone so no handler of Node's runs in the child before it execs. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid;
  if (cgroup_fd >= 0) {
    *what = "clone3";
    *used_clone3 = 1;
#if TSRUN_HAVE_CLONE3_VFORK
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = TSRUN_VFORK_STACK;
    args.cgroup = (uint64_t)cgroup_fd;
    pid = clone3_exec(&args, x);
#else
    /* No trampoline for this CPU: the caller places the child through cgroup.procs instead. */
    pid = -ENOSYS;
#endif
  } else {
    *what = "clone";
    /* glibc's clone runs the function on the given stack, for every CPU (as posix_spawn does). */
    pid = clone(exec_init_child, stack + TSRUN_VFORK_STACK, (int)(flags | CLONE_VM | CLONE_VFORK | SIGCHLD), x);
    if (pid < 0) pid = -errno;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  /* The child has exec'd or exited (CLONE_VFORK): its stack is ours again. */
  free(stack);
  return (pid_t)pid;
}

static int parent_fail(struct tsrun_spawn_result *out, const char *what, int err) {
  out->err = err;
  copy_name(out->what, what, sizeof out->what);
  return -err;
}

/*
 * Starts the container side. The child is cloned as posix_spawn does it (CLONE_VM|CLONE_VFORK: no
 * copy of Node's ~50 MB of page tables, no copy-on-write faults afterwards) and its only action is
 * to exec tsrun-init (see init_program), passing it the sync socket, the plan (a memfd) and the fds
 * the plan names; nothing else of Node's crosses the exec (everything else is close-on-exec, or is
 * closed by tsrun-init first thing). Until that exec the child shares Node's memory, so it is as
 * dumpable as Node: it is then alone in the namespaces it was born in (a new container's), or in
 * tsrun's own (two stages).
 *  - One stage (the usual `run`/`create`): the clone makes the new namespaces and places the child
 *    in the container's cgroup; tsrun-init runs the plan.
 *  - Two stages (plans that join namespaces, make a user or time namespace, or TSRUN_SPAWN_TWO_STAGE):
 *    the clone makes nothing, and tsrun-init's stage1_main joins and clones the container process
 *    (into the cgroup, whose fd it gets).
 */
int tsrun_spawn(const uint8_t *buf, uint32_t len, int cgroup_fd, const char *init_path, int flags, struct tsrun_spawn_result *out) {
  memset(out, 0, sizeof *out);
  out->pid = -1;
  out->sync_fd = -1;
  out->step = -1;
  struct plan pl;
  int bad_step;
  const char *what = "decode plan";
  int rc = decode_plan(buf, len, &pl, &bad_step);
  int min_fd = 3 + (int)pl.preserve_fds;
  struct init_exec x;
  memset(&x, 0, sizeof x);
  /* tsrun's fds the plan uses must be open, and outside the range the caller passes on. */
  for (uint32_t i = 0; rc == 0 && i < pl.n_pass; i++) {
    if (pl.pass_fds[i] < min_fd || fcntl(pl.pass_fds[i], F_GETFD) < 0) {
      rc = -EBADF;
      what = "plan: an fd it passes on";
    }
    x.fds[x.n_fds++] = pl.pass_fds[i];
  }
  int before_clone = 0;
  for (uint32_t i = 0; rc == 0 && i < pl.n_steps; i++) before_clone |= (pl.steps[i].flags & TSRUN_STEP_BEFORE_CLONE) != 0;
  int two_stage = pl.n_joins > 0 || (pl.clone_flags & CLONE_NEWUSER) || before_clone || (flags & TSRUN_SPAWN_TWO_STAGE);
  uint64_t clone_flags = pl.clone_flags;
  free_plan(&pl);
  if (rc < 0) {
    out->step = bad_step;
    return parent_fail(out, what, -rc);
  }
  int init_kind = 0;
  int init_fd = init_fd_copy(init_path, (flags & TSRUN_SPAWN_SEALED_COPY) != 0, &init_kind);
  if (init_fd < 0) return parent_fail(out, "tsrun-init", -init_fd);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    int e = errno;
    close(init_fd);
    return parent_fail(out, "socketpair", e);
  }
  int child_end = -1, plan_fd = -1, cg = -1;
  pid_t pid = -1;
  if ((child_end = fd_at_least(sv[1], min_fd)) < 0) {
    rc = child_end;
    what = "fcntl(F_DUPFD_CLOEXEC)";
  } else if ((plan_fd = plan_memfd(buf, len, min_fd)) < 0) {
    rc = plan_fd;
    what = "memfd_create";
  } else if (two_stage && cgroup_fd >= 0 && (cg = fcntl(cgroup_fd, F_DUPFD_CLOEXEC, min_fd)) < 0) {
    rc = -errno;
    what = "fcntl(F_DUPFD_CLOEXEC)";
  } else {
    char a_sync[16], a_plan[16], a_cgroup[16];
    snprintf(a_sync, sizeof a_sync, "%d", child_end);
    snprintf(a_plan, sizeof a_plan, "%d", plan_fd);
    snprintf(a_cgroup, sizeof a_cgroup, "%d", cg);
    char *argv[] = {"tsrun-init", a_sync, a_plan, two_stage ? "spawn" : "run", a_cgroup, NULL};
    x.init_fd = init_fd;
    x.argv = argv;
    x.preserve = min_fd - 3;
    int own[] = {0, 1, 2, child_end, plan_fd, cg};
    for (int i = 0; i < 6; i++)
      if (own[i] >= 0) x.fds[x.n_fds++] = own[i];
    pid = clone_init(&x, two_stage ? 0 : clone_flags, two_stage ? -1 : cgroup_fd, &out->clone3, &what);
    rc = pid < 0 ? pid : 0;
  }
  close(init_fd);
  if (cg >= 0) close(cg);
  if (plan_fd >= 0) close(plan_fd);
  if (child_end >= 0) close(child_end);
  if (rc < 0) {
    close(sv[0]);
    return parent_fail(out, what, -rc);
  }
  if (x.err) {
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {}
    close(sv[0]);
    return parent_fail(out, "execve tsrun-init", x.err);
  }
  out->pid = pid;
  out->sync_fd = sv[0];
  out->two_stage = two_stage;
  out->init_kind = init_kind;
  return 0;
}


/*
 * A warm init (tsrun-init's warm_main): cloned now, with `clone_flags`' new namespaces, into a new
 * cgroup `cgroup_dir` (made here: one that exists is someone else's, EEXIST) with clone3's
 * CLONE_INTO_CGROUP, where it waits for its plan (tsrun_send_plan). Runs on a worker thread (koffi's
 * async call): the mkdir and the clone cost Node's thread nothing. root_procs: where the init goes
 * to remove its cgroup if it is never used (see warm_leave). owner_tid: the thread of tsrun's the init
 * belongs to (Node's thread that asked for it, tsrun_thread_id), whose end it watches. Returns 0 with
 * out->pid, out->sync_fd and out->mounts_fd (/proc/self/mountinfo, opened before the clone: its
 * POLLPRI then says the mount table changed since), or -errno (out->what; nothing made is left).
 */
/* What the init watches while it waits (warm_main), and its way back to the host's cgroup files. */
struct warm_watch {
  int mounts; /* tsrun's /proc/self/mountinfo, a second open */
  int mnt;    /* tsrun's mount namespace */
  int owner;  /* a pidfd of the owner thread, or -1 (no thread pidfds before Linux 6.9) */
};
static int spawn_warm_in(uint64_t clone_flags, int cgroup_fd, const struct warm_watch *w, const char *cgroup_dir, const char *root_procs, const char *init_path, int flags, struct tsrun_spawn_result *out);
static int send_warm_message(int sync_fd, uint32_t magic, const uint8_t *plan, uint32_t len, const int *fds, const int *targets, int n);

/*
 * Has a warm init run `ahead` (an encoded plan: plan/ahead.ts) now, and waits for its answer: on a
 * worker thread (koffi's async call), once the init is made and while no container has taken it.
 * Returns 0 when it ran every step, else -errno with the failed call's name in `what` (the caller
 * then discards the init: tsrun's fresh clone reports the failure to the container's caller).
 */
int tsrun_warm_ahead(int sync_fd, const uint8_t *ahead, uint32_t len, char *what, uint32_t what_size) {
  struct tsrun_report rep;
  memset(&rep, 0, sizeof rep);
  int passed = -1;
  copy_name(what, "sendmsg(warm ahead)", what_size);
  int rc = send_warm_message(sync_fd, TSRUN_WARM_AHEAD_MAGIC, ahead, len, NULL, NULL, 0);
  /* Mounts on a slow or hung filesystem would hold a worker thread: ten seconds, then a fresh clone. */
  if (rc == 0) {
    copy_name(what, "recvmsg(warm ahead)", what_size);
    rc = tsrun_recv_report_within(sync_fd, 10000, &rep, &passed);
  }
  if (passed >= 0) close(passed);
  if (rc == 1 && rep.kind == TSRUN_REPORT_AHEAD_DONE) return 0;
  if (rc == 1 && rep.kind == TSRUN_REPORT_STEP_FAILED && rep.syscall[0]) copy_name(what, rep.syscall, what_size);
  return rc == 1 ? -(rep.err > 0 ? rep.err : EPROTO) : rc == 0 ? -EPIPE : rc;
}

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* The calling thread's id: Node's thread that makes a warm init, which tsrun_spawn_warm runs off. */
int tsrun_thread_id(void) {
  return (int)syscall(SYS_gettid);
}

int tsrun_spawn_warm(uint64_t clone_flags, const char *cgroup_dir, const char *root_procs, int owner_tid, const char *init_path, int flags, struct tsrun_spawn_result *out) {
  memset(out, 0, sizeof *out);
  out->pid = -1;
  out->sync_fd = -1;
  out->step = -1;
  out->mounts_fd = -1;
  if (clone_flags & (CLONE_NEWUSER | CLONE_NEWTIME)) return parent_fail(out, "warm init", EINVAL);
  if (mkdir(cgroup_dir, 0755) < 0) return parent_fail(out, "mkdir(cgroup)", errno);
  int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  /* Two opens of this mount table, one for tsrun and one the init watches: a change is reported once
   * per open file (the poll that sees it consumes it). The mount namespace: the init's way back to
   * the host's cgroup files once it is in the container's root. */
  int mounts = cg < 0 ? -1 : open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  struct warm_watch w = {-1, -1, -1};
  w.mounts = mounts < 0 ? -1 : open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  w.mnt = w.mounts < 0 ? -1 : open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
  /* Without thread pidfds (EINVAL before 6.9) the init goes at EOF or the process's end only. */
  if (owner_tid > 0) w.owner = (int)syscall(SYS_pidfd_open, owner_tid, PIDFD_THREAD);
  int rc;
  if (cg < 0 || mounts < 0 || w.mounts < 0 || w.mnt < 0) {
    rc = parent_fail(out, cg < 0 ? "open(cgroup)" : w.mnt < 0 && w.mounts >= 0 ? "open(/proc/thread-self/ns/mnt)" : "open(mountinfo)", errno);
  } else {
    rc = spawn_warm_in(clone_flags, cg, &w, cgroup_dir, root_procs, init_path, flags, out);
  }
  if (cg >= 0) close(cg);
  if (w.mounts >= 0) close(w.mounts);
  if (w.mnt >= 0) close(w.mnt);
  if (w.owner >= 0) close(w.owner);
  if (rc < 0) {
    if (mounts >= 0) close(mounts);
    rmdir(cgroup_dir);
    return rc;
  }
  out->mounts_fd = mounts;
  return 0;
}

static int spawn_warm_in(uint64_t clone_flags, int cgroup_fd, const struct warm_watch *w, const char *cgroup_dir, const char *root_procs, const char *init_path, int flags, struct tsrun_spawn_result *out) {
  int kind = 0;
  int init_fd = init_fd_copy(init_path, (flags & TSRUN_SPAWN_SEALED_COPY) != 0, &kind);
  if (init_fd < 0) return parent_fail(out, "tsrun-init", -init_fd);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    int e = errno;
    close(init_fd);
    return parent_fail(out, "socketpair", e);
  }
  int child_end = fd_at_least(sv[1], 3);
  if (child_end < 0) {
    close(init_fd);
    close(sv[0]);
    return parent_fail(out, "fcntl(F_DUPFD_CLOEXEC)", -child_end);
  }
  char a_sync[16], a_watch[16], a_mnt[16], a_owner[16];
  snprintf(a_sync, sizeof a_sync, "%d", child_end);
  snprintf(a_watch, sizeof a_watch, "%d", w->mounts);
  snprintf(a_mnt, sizeof a_mnt, "%d", w->mnt);
  if (w->owner >= 0) snprintf(a_owner, sizeof a_owner, "%d", w->owner);
  else snprintf(a_owner, sizeof a_owner, "-");
  char *argv[] = {"tsrun-init", a_sync, "warm", (char *)cgroup_dir, (char *)root_procs, a_watch, a_mnt, a_owner, NULL};
  struct init_exec x;
  memset(&x, 0, sizeof x);
  x.argv = argv;
  int own[] = {0, 1, 2, child_end, w->mounts, w->mnt, w->owner};
  for (int i = 0; i < 7; i++)
    if (own[i] >= 0) x.fds[x.n_fds++] = own[i];
  const char *what = "clone3";
  x.init_fd = init_fd;
  pid_t pid = clone_init(&x, clone_flags, cgroup_fd, &out->clone3, &what);
  close(init_fd);
  close(child_end);
  if (pid < 0 || x.err) {
    if (pid > 0) { int status; while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {} }
    close(sv[0]);
    return parent_fail(out, pid < 0 ? what : "execve tsrun-init", pid < 0 ? -pid : x.err);
  }
  out->pid = pid;
  out->sync_fd = sv[0];
  out->init_kind = kind;
  return 0;
}

/* One message to a warm init (warm_main): the header, the plan's memfd, then n fds, the i-th to become fd targets[i]. */
static int send_warm_message(int sync_fd, uint32_t magic, const uint8_t *plan, uint32_t len, const int *fds, const int *targets, int n) {
  if (n < 0 || n + 1 > TSRUN_WARM_MAX_FDS) return -E2BIG;
  int plan_fd = plan_memfd(plan, len, 3);
  if (plan_fd < 0) return plan_fd;
  struct tsrun_warm_header h;
  memset(&h, 0, sizeof h);
  h.magic = magic;
  h.n_fds = (uint32_t)n;
  int all[TSRUN_WARM_MAX_FDS];
  all[0] = plan_fd;
  for (int i = 0; i < n; i++) {
    all[i + 1] = fds[i];
    h.targets[i] = targets[i];
  }
  ssize_t sent = send_with_fds(sync_fd, &h, sizeof h, all, n + 1);
  int e = errno;
  close(plan_fd);
  return sent < 0 ? -e : 0;
}

/*
 * Gives a warm init its plan: a memfd holding it and the fds it names, each to become fd targets[i]
 * in the init. Returns 0 or -errno (EPIPE: the init is gone).
 */
int tsrun_send_plan(int sync_fd, const uint8_t *plan, uint32_t len, const int *fds, const int *targets, int n) {
  return send_warm_message(sync_fd, TSRUN_WARM_MAGIC, plan, len, fds, targets, n);
}

/* 1 when the mount table of fd's /proc/PID/mountinfo changed since the last call (or its open): proc(5), POLLPRI. */
int tsrun_mounts_changed(int fd) {
  struct pollfd p = {fd, POLLPRI, 0};
  int rc;
  /* A signal (SIGCHLD of a container, a profiler's SIGPROF) can interrupt even a poll that does not wait. */
  while ((rc = poll(&p, 1, 0)) < 0 && errno == EINTR) {}
  if (rc < 0) return -errno;
  return rc > 0 && (p.revents & (POLLPRI | POLLERR)) ? 1 : 0;
}

/*
 * Starts the connector (tsrun-init connect, see connector_main) from the same read-only copy of
 * tsrun-init as a container's init, in the network namespace of ns_fd. Returns its pid (a child of
 * this process: the caller reaps it once it has closed *sock_out) or -errno.
 */
int tsrun_spawn_connector(const char *init_path, int ns_fd, int *sock_out) {
  *sock_out = -1;
  int init_fd = init_fd_copy(init_path, 0, NULL);
  if (init_fd < 0) return init_fd;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    int e = errno;
    close(init_fd);
    return -e;
  }
  int ns = fcntl(ns_fd, F_DUPFD_CLOEXEC, 3);
  int child_end = fd_at_least(sv[1], 3);
  if (ns < 0 || child_end < 0) {
    int e = ns < 0 ? errno : -child_end;
    if (ns >= 0) close(ns);
    if (child_end >= 0) close(child_end);
    close(sv[0]);
    close(init_fd);
    return -e;
  }
  char a_sock[16], a_ns[16];
  snprintf(a_sock, sizeof a_sock, "%d", child_end);
  snprintf(a_ns, sizeof a_ns, "%d", ns);
  char *argv[] = {"tsrun-init", "connect", a_sock, a_ns, NULL};
  struct init_exec x;
  memset(&x, 0, sizeof x);
  x.init_fd = init_fd;
  x.argv = argv;
  x.fds[x.n_fds++] = child_end;
  x.fds[x.n_fds++] = ns;
  int used_clone3 = 0;
  const char *what = "clone";
  pid_t pid = clone_init(&x, 0, -1, &used_clone3, &what);
  close(init_fd);
  close(child_end);
  close(ns);
  if (pid < 0 || x.err) {
    if (pid > 0) { int status; while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {} }
    close(sv[0]);
    return pid < 0 ? pid : -x.err;
  }
  *sock_out = sv[0];
  return pid;
}

/* One request to the connector: the connected socket's fd (family 0: its namespace's, port 1 net, 2 user), or -errno (syscall_out names the call, 16 bytes). */
int tsrun_connector_connect(int sock, uint32_t family, const uint8_t *addr, uint32_t port, int32_t timeout_ms, char *syscall_out) {
  struct tsrun_connect_request rq;
  memset(&rq, 0, sizeof rq);
  rq.family = family;
  rq.port = port;
  if (family != 0) memcpy(rq.addr, addr, family == AF_INET6 ? 16 : 4);
  rq.timeout_ms = timeout_ms;
  syscall_out[0] = 0;
  ssize_t n;
  while ((n = send(sock, &rq, sizeof rq, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
  /* A connector that is gone already could not join the namespace (the container is gone): see below. */
  if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) { copy_name(syscall_out, "setns", 16); return -ESRCH; }
  if (n < 0) { copy_name(syscall_out, "send", 16); return -errno; }
  struct tsrun_connect_reply rep;
  int fd;
  n = recv_with_fd(sock, &rep, sizeof rep, &fd);
  /* EOF: the connector exited without answering, which it does only when setns failed (the
   * container's processes are gone). */
  if (n == 0) { copy_name(syscall_out, "setns", 16); return -ESRCH; }
  if (n < 0) { copy_name(syscall_out, "recvmsg", 16); return (int)n; }
  if (rep.err) { if (fd >= 0) close(fd); copy_name(syscall_out, rep.syscall, 16); return -rep.err; }
  return fd >= 0 ? fd : -EPROTO;
}

/* Returns 1 with a report, 0 at EOF (the child exec'd or died), -errno on error. */
int tsrun_recv_report(int fd, struct tsrun_report *out, int *passed_fd) {
  ssize_t n = recv_with_fd(fd, out, sizeof *out, passed_fd);
  return n > 0 ? 1 : (int)n;
}

/* As tsrun_recv_report, but gives up with -ETIMEDOUT when nothing arrives within timeout_ms: the
 * parent reads the child's first reports on its own thread (no worker-thread hop for a set-up that
 * takes about a millisecond) and falls back to a blocking read on a worker when the child is slow. */
int tsrun_recv_report_within(int fd, int timeout_ms, struct tsrun_report *out, int *passed_fd) {
  struct pollfd p = {fd, POLLIN, 0};
  int rc;
  while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {}
  if (rc < 0) return -errno;
  if (rc == 0) {
    *passed_fd = -1;
    return -ETIMEDOUT;
  }
  return tsrun_recv_report(fd, out, passed_fd);
}

int tsrun_send_byte(int fd, int byte) {
  char b = (char)byte;
  ssize_t n;
  while ((n = send(fd, &b, 1, MSG_NOSIGNAL)) < 0 && errno == EINTR) {}
  return n == 1 ? 0 : -errno;
}

int tsrun_wait(int pid, int *status) {
  int rc;
  while ((rc = waitpid(pid, status, __WALL)) < 0 && errno == EINTR) {}
  return rc < 0 ? -errno : rc;
}

/* waitpid(WNOHANG): the pid when it was reaped (status filled in), 0 while it still runs. */
int tsrun_wait_nohang(int pid, int *status) {
  int rc;
  while ((rc = waitpid(pid, status, __WALL | WNOHANG)) < 0 && errno == EINTR) {}
  return rc < 0 ? -errno : rc;
}

int tsrun_set_winsize(int fd, int rows, int cols) {
  struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
  return ioctl(fd, TIOCSWINSZ, &ws) < 0 ? -errno : 0;
}

/* --console-socket: hand the pty master to whoever listens on the unix socket. */
int tsrun_send_fd(const char *socket_path, int fd) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(socket_path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
  strcpy(addr.sun_path, socket_path);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) { int e = errno; close(s); return -e; }
  static const char name[] = "/dev/ptmx";
  ssize_t n = send_with_fd(s, name, sizeof name - 1, fd);
  int e = errno;
  close(s);
  return n < 0 ? -e : 0;
}

int tsrun_close(int fd) { return close(fd) < 0 ? -errno : 0; }

/* _exit(2): ends tsrun without libc's atexit work (OpenSSL's and ICU's clean-ups, Node's teardown). */
void tsrun_exit_now(int code) { _exit(code); }

/* The caller's terminal in raw mode for a container pty. libuv's raw mode keeps output processing
 * (ONLCR), which would turn the pty's \r\n into \r\r\n; cfmakeraw turns it off as runc does. */
int tsrun_tty_make_raw(int fd, uint8_t *saved, int saved_len) {
  struct termios t;
  if ((size_t)saved_len < sizeof t) return -EINVAL;
  if (tcgetattr(fd, &t) < 0) return -errno;
  memcpy(saved, &t, sizeof t);
  cfmakeraw(&t);
  return tcsetattr(fd, TCSANOW, &t) < 0 ? -errno : 0;
}

int tsrun_tty_restore(int fd, const uint8_t *saved, int saved_len) {
  struct termios t;
  if ((size_t)saved_len < sizeof t) return -EINVAL;
  memcpy(&t, saved, sizeof t);
  return tcsetattr(fd, TCSANOW, &t) < 0 ? -errno : 0;
}

int tsrun_mkfifo(const char *path, int mode) { return mkfifo(path, (mode_t)mode) < 0 ? -errno : 0; }

/* renameat2(RENAME_EXCHANGE): swaps two names atomically (state/atomic-file.ts: replacing a state file
 * so that the file renamed over the old one is not slow to unlink later; see there). */
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
int tsrun_rename_exchange(const char *a, const char *b) {
  return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) < 0 ? -errno : 0;
}

/* renameat2(RENAME_NOREPLACE): a spare state directory takes a container's name only if nothing has
 * it (rename(2) would replace an empty directory that another create had just made; state/spare-dirs.ts). */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
int tsrun_rename_noreplace(const char *a, const char *b) {
  return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) < 0 ? -errno : 0;
}

/* A close-on-exec pipe: the library gives its containers pipes it reads (Node has no pipe(2) of its own
 * outside child_process); the container's end reaches it only through a DUP_FD step. */
int tsrun_pipe(int *fds) { return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0; }

/* A close-on-exec memory file: the library's run() gives it to a container as stdout or stderr when
 * nobody follows the output live, and reads it once the container is gone (src/api/pipes.ts). */
int tsrun_memfd(const char *name) {
  int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

/* A pidfd lets tsrun wait for a process that is not its child (after `create` exited) without polling. */
int tsrun_pidfd_open(int pid) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -errno : fd;
}

/* 1 when fd is readable (a pidfd: the process exited), 0 on timeout, -errno on error. */
int tsrun_poll_readable(int fd, int timeout_ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int rc;
  while ((rc = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {}
  return rc < 0 ? -errno : rc;
}

/* Blocking flock, called on a worker thread: the kernel drops the lock if tsrun dies. */
int tsrun_flock(int fd, int op) {
  int rc;
  while ((rc = flock(fd, op)) < 0 && errno == EINTR) {}
  return rc < 0 ? -errno : 0;
}

int tsrun_pidfd_send_signal(int pidfd, int sig) {
  return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

/*
 * Unmounts (MNT_DETACH) the mount at `path` only if the topmost mount there is mount `mount_id` (the
 * first field of /proc/self/mountinfo). Which mounts to remove, and in which order, is the caller's
 * business; this only makes the removal exact: the path is resolved without following any symlink,
 * so a link planted in a container's rootfs cannot redirect it at another mount, and the unmount
 * goes through the checked fd (/proc/self/fd/N), so it hits the mount that was checked, not whatever
 * the path names a moment later.
 * Returns 0; -ENOENT: nothing at the path; -ESTALE: the topmost mount there is another one;
 * -ELOOP: a component is a symlink; or -errno of openat2, statx or umount2.
 */
int tsrun_umount_mount(const char *path, int mount_id) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
  if (fd < 0) return -errno;
  struct statx stx;
  int rc = statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx);
  if (rc < 0) rc = -errno;
  else if (!(stx.stx_mask & STATX_MNT_ID) || stx.stx_mnt_id != (uint64_t)mount_id) rc = -ESTALE;
  else {
    char fdp[32];
    fd_path(fdp, fd);
    rc = umount2(fdp, MNT_DETACH) < 0 ? -errno : 0;
  }
  close(fd);
  return rc;
}

/* ------------------------------------------------------------------ bpf(2) */

/* glibc has no bpf() wrapper; these take plain buffers so the caller needs no pinned native memory.
 * Layouts are the kernel's (linux/bpf.h); what the cgroup driver builds from them is its business. */

/* BPF_PROG_LOAD: returns the program fd or -errno. log may be NULL (log_size 0); with a log the
 * verifier explains a refusal there. */
int tsrun_bpf_prog_load(uint32_t prog_type, uint32_t expected_attach_type, const uint8_t *insns, uint32_t insn_cnt,
                        const char *license, const char *name, char *log, uint32_t log_size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = prog_type;
  attr.expected_attach_type = expected_attach_type;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = insn_cnt;
  attr.license = (uint64_t)(uintptr_t)license;
  if (log && log_size > 0) {
    attr.log_level = 1;
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = log_size;
    log[0] = '\0';
  }
  strncpy(attr.prog_name, name, sizeof attr.prog_name - 1);
  /* The verifier gives up with EAGAIN whenever a signal is pending (a profiler's SIGPROF every 50 µs
   * interrupts every try): signals wait, on this thread only, until the load is done. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return fd < 0 ? -e : fd;
}

/* BPF_PROG_ATTACH (attach 1) or BPF_PROG_DETACH (attach 0) of prog_fd on target_fd. */
int tsrun_bpf_prog_attach(int attach, int target_fd, int prog_fd, uint32_t attach_type, uint32_t flags) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)target_fd;
  attr.attach_bpf_fd = (uint32_t)prog_fd;
  attr.attach_type = attach_type;
  attr.attach_flags = attach ? flags : 0;
  return syscall(SYS_bpf, attach ? BPF_PROG_ATTACH : BPF_PROG_DETACH, &attr, sizeof attr) < 0 ? -errno : 0;
}

/* BPF_PROG_QUERY: ids of the programs attached directly to target_fd; returns their count (which may
 * exceed max: only max ids are stored) or -errno. */
int tsrun_bpf_prog_query(int target_fd, uint32_t attach_type, uint32_t *ids, uint32_t max) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)target_fd;
  attr.query.attach_type = attach_type;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = max;
  if (syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr) < 0) return -errno;
  return (int)attr.query.prog_cnt;
}

/* BPF_PROG_GET_FD_BY_ID: an fd of an already-loaded program, or -errno. */
int tsrun_bpf_prog_fd_by_id(uint32_t id) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_id = id;
  int fd = (int)syscall(SYS_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof attr);
  return fd < 0 ? -errno : fd;
}

#endif /* !TSRUN_INIT_PROGRAM */
