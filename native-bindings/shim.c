/*
 * tsrun native shim — see shim.h for why it exists and the plan's wire format.
 *
 * Two halves:
 *  - parent side (runs on Node's main thread, may allocate): decode the plan into C structs,
 *    make the sync socket, clone the child, hand pid + socket back to TypeScript.
 *  - child side (a fork of a multi-threaded process): may only use raw syscalls — no malloc,
 *    no stdio, no locks — because another thread may have held any lock at clone time.
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
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <poll.h>
#include <sys/file.h>

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
  uint32_t flags, preserve_fds, n_joins, n_steps;
  struct join *joins;
  struct step *steps;
};

/* ------------------------------------------------------------------ decoding (parent side) */

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

/* ------------------------------------------------------------------ child side: helpers */

static int g_sync_fd = -1;
static int g_pdeathsig = 0;
static int g_root_fd = -1;
static const char *g_syscall = "";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void copy_name(char *dst, const char *src, size_t cap) {
  size_t i = 0;
  for (; src[i] && i + 1 < cap; i++) dst[i] = src[i];
  dst[i] = 0;
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
  struct iovec iov = {&rep, sizeof rep};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
  if (fd_to_pass >= 0) {
    memset(&ctl, 0, sizeof ctl);
    msg.msg_control = ctl.buf;
    msg.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
  }
  while (sendmsg(g_sync_fd, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

/* Fail with the syscall's name recorded: every step returns -errno through this. */
#define FAIL(name) do { g_syscall = (name); return -errno; } while (0)

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

/* ------------------------------------------------------------------ child side: steps */

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
    if (mount("tmpfs", s->strs[0], "tmpfs", MS_RDONLY, "size=0") < 0) FAIL("mount");
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
  /* The raw syscall, not glibc's setgroups(): in a process glibc believes is multi-threaded (our
   * child inherited Node's thread list) the wrapper broadcasts the change to every thread under a
   * lock another thread may have held at clone time — and waits forever. Same for setresuid/gid. */
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
  case TSRUN_OP_CHDIR:
    if (chdir(s->strs[0]) < 0) FAIL("chdir");
    return 0;
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
  case TSRUN_OP_WAIT_READ: return step_wait_read(s, index);
  case TSRUN_OP_SECCOMP: return step_seccomp(s);
  case TSRUN_OP_UNSHARE:
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

static void reset_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  /* Node ignores SIGPIPE and libuv installs handlers that write into pipes shared with the parent:
   * none of that may survive into the container. */
  for (int sig = 1; sig < _NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &sa, NULL);
}

static _Noreturn void child_main(struct plan *pl) {
  reset_signals();
  /* Until it execs, this process is a copy of tsrun: nothing in the container may open its
   * /proc/<pid>/exe (the host's node binary) or fds (CVE-2019-5736 class). execve resets the flag. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  g_pdeathsig = (pl->flags & TSRUN_PLAN_PDEATHSIG) != 0;
  if (g_pdeathsig) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  /* Nothing the Node process had open may leak into the container (CVE-2016-9962 class). */
  syscall(SYS_close_range, 3 + pl->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  umask(0);
  if ((pl->flags & TSRUN_PLAN_WAIT_GO) && wait_parent() < 0) _exit(126);
  int trace = (pl->flags & TSRUN_PLAN_TRACE) != 0;
  for (uint32_t i = 0; i < pl->n_steps; i++) {
    const struct step *s = &pl->steps[i];
    uint64_t t0 = trace ? now_ns() : 0;
    int rc = run_step(s, (int)i);
    if (rc == -ENOENT && (s->flags & TSRUN_STEP_OPTIONAL)) {
      if (trace) send_report(TSRUN_REPORT_SKIPPED, (int)i, ENOENT, 0, t0, now_ns(), -1);
      continue;
    }
    if (rc < 0) {
      send_report(TSRUN_REPORT_STEP_FAILED, (int)i, -rc, 0, t0, now_ns(), -1);
      _exit(127);
    }
    if (trace) send_report(TSRUN_REPORT_STEP_OK, (int)i, 0, 0, t0, now_ns(), -1);
  }
  /* A plan must end in exec; reaching here is a planning bug. */
  g_syscall = "plan";
  send_report(TSRUN_REPORT_STEP_FAILED, (int)pl->n_steps, EINVAL, 0, 0, 0, -1);
  _exit(127);
}

/* ------------------------------------------------------------------ spawning (parent side) */

/* fork-like clone: the child returns 0 on this same stack, with a private copy of memory. */
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
 * Joining a PID namespace only affects children, and setns into a user/mount namespace needs a
 * single-threaded caller: so when the plan joins namespaces, an intermediate process joins them and
 * clones the container process with CLONE_PARENT (it becomes Node's child), reports its pid, exits.
 */
static _Noreturn void intermediate_main(struct plan *pl, int cgroup_fd) {
  reset_signals();
  /* Non-dumpable before joining: processes inside the container must not be able to open
   * /proc/<pid>/exe (the host's node binary), mem or fds of this copy of tsrun (CVE-2019-5736 class).
   * The flag is inherited by the container process and reset by its execve. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
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
  pid_t pid = clone_child(pl->clone_flags | CLONE_PARENT, cgroup_fd);
  if (pid == 0) child_main(pl);
  if (pid < 0) {
    g_syscall = cgroup_fd >= 0 ? "clone3" : "clone";
    send_report(TSRUN_REPORT_STEP_FAILED, -1, errno, 0, 0, 0, -1);
    _exit(127);
  }
  send_report(TSRUN_REPORT_PID, -1, 0, pid, 0, 0, -1);
  _exit(0);
}

/*
 * The usual path: clone3(CLONE_VM|CLONE_VFORK) and exec tsrun-init (this file built as a static
 * program) right away, as posix_spawn does. A fork of Node would copy the page tables of its ~50 MB
 * and turn every page either process writes afterwards into a copy-on-write fault (~1-2 ms of `run`,
 * on both sides); here the child borrows Node's memory only until its execve, while Node waits.
 * clone3 keeps CLONE_INTO_CGROUP (writing cgroup.procs instead costs an RCU grace period, ~10 ms).
 * tsrun-init reads the plan from a memfd and runs child_main as a forked child would.
 * Not for plans that join namespaces (setns needs the intermediate) or make a user namespace (an
 * execve there before the parent writes uid_map would drop every capability), and only where the
 * trampoline below exists (x86-64): elsewhere the child is forked as before.
 */
#if defined(__x86_64__)
#define TSRUN_HAVE_VFORK_EXEC 1

struct init_exec {
  const char *path;
  char **argv;
  int fds[5];   /* passed on: close-on-exec cleared in the child's own fd table */
  int n_fds;
  int err;      /* set by the child when execve fails (the memory is shared until then) */
};

/* The child's stack between clone3 and execve (Node's main thread is suspended meanwhile). */
static char g_vfork_stack[64 * 1024] __attribute__((aligned(16)));

/* Runs in the child on g_vfork_stack; only syscalls, nothing that touches Node's state. */
__attribute__((used, noinline, noreturn)) static void exec_init_child(struct init_exec *x) {
  for (int i = 0; i < x->n_fds; i++) {
    int fl = fcntl(x->fds[i], F_GETFD);
    if (fl >= 0 && (fl & FD_CLOEXEC)) fcntl(x->fds[i], F_SETFD, fl & ~FD_CLOEXEC);
  }
  char *envp[] = {NULL};
  execve(x->path, x->argv, envp);
  x->err = errno ? errno : ENOEXEC;
  _exit(127);
}

/* clone3 with a stack of its own: the child starts on g_vfork_stack and calls exec_init_child, so it
 * never returns into (and overwrites) the frames of the suspended parent. Returns -errno on failure. */
static long clone3_exec(struct clone_args *args, struct init_exec *x) {
  long ret;
  register struct init_exec *arg __asm__("r12") = x;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"
      "mov %%r12, %%rdi\n\t"
      "call exec_init_child\n\t"
      "ud2\n"
      "1:"
      : "=a"(ret)
      : "a"((long)SYS_clone3), "D"(args), "S"(sizeof *args), "r"(arg)
      : "rcx", "r11", "memory");
  return ret;
}

/* A memfd holding the plan, for tsrun-init to read; -errno on failure. */
static int plan_memfd(const uint8_t *buf, uint32_t len) {
  int fd = (int)syscall(SYS_memfd_create, "tsrun-plan", MFD_CLOEXEC);
  if (fd < 0) return -errno;
  for (uint32_t done = 0; done < len;) {
    ssize_t n = write(fd, buf + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { int e = n < 0 ? errno : EIO; close(fd); return -e; }
    done += (uint32_t)n;
  }
  return fd;
}

/* clone3 + execve of tsrun-init: its pid, or -1 with errno (and *what naming the failed call). */
static pid_t spawn_init(const char *init_path, uint64_t clone_flags, const uint8_t *buf, uint32_t len, int sync_fd, int cgroup_fd, const char **what) {
  int plan_fd = plan_memfd(buf, len);
  if (plan_fd < 0) { *what = "memfd_create"; errno = -plan_fd; return -1; }
  char a_sync[16], a_plan[16];
  snprintf(a_sync, sizeof a_sync, "%d", sync_fd);
  snprintf(a_plan, sizeof a_plan, "%d", plan_fd);
  char *argv[] = {"tsrun-init", a_sync, a_plan, NULL};
  struct init_exec x = {init_path, argv, {0, 1, 2, sync_fd, plan_fd}, 5, 0};
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = clone_flags | CLONE_VM | CLONE_VFORK | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0);
  args.exit_signal = SIGCHLD;
  args.stack = (uint64_t)(uintptr_t)g_vfork_stack;
  args.stack_size = sizeof g_vfork_stack;
  if (cgroup_fd >= 0) args.cgroup = (uint64_t)cgroup_fd;
  long rc = clone3_exec(&args, &x);
  close(plan_fd);
  if (rc < 0) { *what = "clone3"; errno = (int)-rc; return -1; }
  pid_t pid = (pid_t)rc;
  if (x.err) {
    int status;
    while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {}
    *what = "execve tsrun-init";
    errno = x.err;
    return -1;
  }
  return pid;
}
#else
#define TSRUN_HAVE_VFORK_EXEC 0
#endif

static int parent_fail(struct tsrun_spawn_result *out, const char *what, int err) {
  out->err = err;
  copy_name(out->what, what, sizeof out->what);
  return -err;
}

int tsrun_spawn(const uint8_t *buf, uint32_t len, int cgroup_fd, const char *init_path, struct tsrun_spawn_result *out) {
  memset(out, 0, sizeof *out);
  out->pid = -1;
  out->sync_fd = -1;
  out->step = -1;
  struct plan pl;
  int bad_step;
  int rc = decode_plan(buf, len, &pl, &bad_step);
  if (rc < 0) {
    free_plan(&pl);
    out->step = bad_step;
    return parent_fail(out, "decode plan", -rc);
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    free_plan(&pl);
    return parent_fail(out, "socketpair", errno);
  }
  /* Block every signal across clone so no handler of Node's runs in the child before it resets them. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  g_sync_fd = sv[1];
  pid_t pid;
  const char *what = cgroup_fd >= 0 && pl.n_joins == 0 ? "clone3" : "clone";
  int use_init = TSRUN_HAVE_VFORK_EXEC && init_path && init_path[0] && pl.n_joins == 0 && !(pl.clone_flags & CLONE_NEWUSER);
#if TSRUN_HAVE_VFORK_EXEC
  if (use_init) {
    pid = spawn_init(init_path, pl.clone_flags, buf, len, sv[1], cgroup_fd, &what);
    if (pid < 0 && errno == ENOSYS) use_init = 0; /* a kernel without clone3 (before 5.3): fork below */
  }
#endif
  if (use_init) {
    /* spawned (or failed) above */
  } else if (pl.n_joins > 0) {
    pid = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) intermediate_main(&pl, cgroup_fd);
  } else {
    pid = clone_child(pl.clone_flags, cgroup_fd);
    if (pid == 0) child_main(&pl);
  }
  int clone_err = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(sv[1]);
  free_plan(&pl);
  if (pid < 0) {
    close(sv[0]);
    return parent_fail(out, what, clone_err);
  }
  out->pid = pid;
  out->sync_fd = sv[0];
  out->exec_init = use_init;
  return 0;
}

/* Returns 1 with a report, 0 at EOF (the child exec'd or died), -errno on error. */
int tsrun_recv_report(int fd, struct tsrun_report *out, int *passed_fd) {
  *passed_fd = -1;
  struct iovec iov = {out, sizeof *out};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  ssize_t n;
  while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  if (n < 0) return errno == ECONNRESET ? 0 : -errno;
  if (n == 0) return 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(passed_fd, CMSG_DATA(c), sizeof(int));
  return n == (ssize_t)sizeof *out ? 1 : -EPROTO;
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
  char name[] = "/dev/ptmx";
  struct iovec iov = {name, sizeof name - 1};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof ctl.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n = sendmsg(s, &msg, MSG_NOSIGNAL);
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
  int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  return fd < 0 ? -errno : fd;
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

/* ------------------------------------------------------------------ tsrun-init (the exec'd child) */

#ifdef TSRUN_INIT_PROGRAM
/* Reports a failure before the first step (step -1: "creating the container process failed"). */
static _Noreturn void init_fail(const char *what, int err) {
  g_syscall = what;
  send_report(TSRUN_REPORT_STEP_FAILED, -1, err, 0, 0, 0, -1);
  _exit(127);
}

/* tsrun-init SYNC_FD PLAN_FD: started by tsrun_spawn (above) in the container's namespaces and
 * cgroup, never by hand. */
int main(int argc, char **argv) {
  if (argc != 3) {
    static const char msg[] = "tsrun-init: started by tsrun for a container's set-up, not by hand\n";
    if (write(2, msg, sizeof msg - 1) < 0) {}
    return 2;
  }
  int sync_fd = atoi(argv[1]), plan_fd = atoi(argv[2]);
  g_sync_fd = sync_fd;
  /* EOF on this socket tells tsrun that the container process exec'd. */
  if (fcntl(sync_fd, F_SETFD, FD_CLOEXEC) < 0) _exit(126);
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
  struct plan pl;
  int bad_step;
  int rc = decode_plan(buf, (uint32_t)st.st_size, &pl, &bad_step);
  free(buf);
  if (rc < 0) init_fail("decode plan", -rc);
  child_main(&pl);
}
#endif
