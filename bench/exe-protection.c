/*
 * What it costs to run the container side from a copy the container cannot write (issue 12, the
 * CVE-2019-5736 class), per tsrun command. As root:
 *
 *   cc -O2 -o /tmp/exe-protection bench/exe-protection.c
 *   /tmp/exe-protection native-bindings/build/tsrun-init N
 *
 * Times N rounds (medians, in microseconds) of:
 *   memfd      memfd_create + sendfile of INIT + F_ADD_SEALS (write, shrink, grow, seal)
 *   ro-bind    bind-mount INIT on a file, remount it read-only, open it O_PATH, umount2(MNT_DETACH)
 *              (the fd keeps the detached read-only mount alive for the exec)
 *   exec-file  vfork + execve(INIT) + wait        (INIT started by hand prints its notice, exits 2)
 *   exec-memfd vfork + execveat(memfd, "", AT_EMPTY_PATH) + wait
 *   exec-bind  vfork + execveat(O_PATH fd on the read-only bind, "", AT_EMPTY_PATH) + wait
 *   tree       open_tree(OPEN_TREE_CLONE) of INIT (a detached bind mount, in no mount table),
 *              mount_setattr(MOUNT_ATTR_RDONLY), an O_PATH fd on it, close of the tree fd (which
 *              dissolves the detached mount; the O_PATH fd keeps it alive, read-only, for the exec)
 *   exec-tree  vfork + execveat(that O_PATH fd, "", AT_EMPTY_PATH) + wait
 * Last, the close of each fd (the last reference: tsrun's exit pays it).
 * The ro-bind rounds need root and a scratch file (made and removed in /run).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int sealed_copy(const char *init) {
  int fd = memfd_create("tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) die("memfd_create");
  int src = open(init, O_RDONLY | O_CLOEXEC);
  if (src < 0) die("open init");
  struct stat st;
  if (fstat(src, &st) < 0) die("fstat");
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = sendfile(fd, src, NULL, (size_t)(st.st_size - done));
    if (n <= 0) die("sendfile");
    done += n;
  }
  close(src);
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) die("F_ADD_SEALS");
  return fd;
}

static int ro_bind(const char *init, const char *target) {
  if (mount(init, target, NULL, MS_BIND, NULL) < 0) die("mount bind");
  if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) die("remount ro");
  int fd = open(target, O_PATH | O_CLOEXEC);
  if (fd < 0) die("open bind");
  if (umount2(target, MNT_DETACH) < 0) die("umount2");
  return fd;
}

static int ro_tree(const char *init) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, init, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) die("open_tree");
  struct mount_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) die("mount_setattr");
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", tree);
  int fd = open(p, O_PATH | O_CLOEXEC);
  if (fd < 0) die("open tree");
  close(tree);
  return fd;
}

static void run_exec(int fd, const char *path) {
  char *argv[] = {"tsrun-init", NULL};
  char *envp[] = {NULL};
  pid_t pid = vfork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    if (fd >= 0) syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
    else execve(path, argv, envp);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 2) {
    fprintf(stderr, "exec: unexpected status %d\n", status);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: exe-protection INIT N\n");
    return 2;
  }
  const char *init = argv[1];
  int n = atoi(argv[2]);
  double *memfd = calloc((size_t)n, sizeof(double)), *bind = calloc((size_t)n, sizeof(double));
  double *ef = calloc((size_t)n, sizeof(double)), *em = calloc((size_t)n, sizeof(double)), *eb = calloc((size_t)n, sizeof(double));
  double *tr = calloc((size_t)n, sizeof(double)), *et = calloc((size_t)n, sizeof(double));
  double *ctr = calloc((size_t)n, sizeof(double)), *cm = calloc((size_t)n, sizeof(double)), *cb = calloc((size_t)n, sizeof(double));
  char target[] = "/run/tsrun-exe-protection-XXXXXX";
  int t = mkstemp(target);
  if (t < 0) die("mkstemp");
  close(t);
  for (int i = 0; i < n; i++) {
    /* Interleaved, so that a busy moment of the machine hits every variant alike. */
    double t0 = now_us();
    int m = sealed_copy(init);
    double t1 = now_us();
    int b = ro_bind(init, target);
    double t2 = now_us();
    run_exec(-1, init);
    double t3 = now_us();
    run_exec(m, NULL);
    double t4 = now_us();
    run_exec(b, NULL);
    double t5 = now_us();
    int tf = ro_tree(init);
    double t6 = now_us();
    run_exec(tf, NULL);
    double t7 = now_us();
    close(tf);
    double t8 = now_us();
    close(m);
    double t9 = now_us();
    close(b);
    double t10 = now_us();
    ctr[i] = t8 - t7;
    cm[i] = t9 - t8;
    cb[i] = t10 - t9;
    tr[i] = t6 - t5;
    et[i] = t7 - t6;
    memfd[i] = t1 - t0;
    bind[i] = t2 - t1;
    ef[i] = t3 - t2;
    em[i] = t4 - t3;
    eb[i] = t5 - t4;
  }
  unlink(target);
  printf("memfd      %8.1f us\nro-bind    %8.1f us\ntree       %8.1f us\nexec-file  %8.1f us\nexec-memfd %8.1f us\nexec-bind  %8.1f us\nexec-tree  %8.1f us\n",
         median(memfd, n), median(bind, n), median(tr, n), median(ef, n), median(em, n), median(eb, n), median(et, n));
  printf("close: memfd %.1f us, ro-bind %.1f us, tree %.1f us (the last reference, at tsrun's exit)\n", median(cm, n), median(cb, n), median(ctr, n));
  return 0;
}
