// bin/tsrun (built by `make build`), the command users run: it execs Node on tsrun's V8 startup
// snapshot (dist/tsrun.blob), where the CLI's code is already in the heap.
//
//   node        the first executable `node` on PATH (no shell: same rule as execvp)
//   snapshot    dist/tsrun.blob, used unless it is missing or older than node: a snapshot works only
//               with the node binary that built it, so after an upgrade the plain bundle runs
//               (dist/tsrun.js, the same code started normally) until `make build` is run again
//   package     found from /proc/self/exe, so a symlink to bin/tsrun (e.g. in /usr/local/bin) works
//
// NODE_EXTRA_CA_CERTS is removed: tsrun opens no TLS connections, and Node would parse that CA bundle
// at every start (~40 ms here). Containers get their environment from config.json, not from here.
//
// Why it is written against system calls, without a C library: every tsrun command pays for this
// program's own start before Node's. It was a /bin/sh script (~1.1 ms, A/B of `tsrun --version`),
// then a static glibc program (~0.8 ms: the exec of a 760 KB binary and libc's start-up); without
// libc it is 10 KB and ~0.15 ms (A/B, 150 alternating runs of each). On x86-64 it is freestanding
// (`sys` and `_start` below); elsewhere, or with -DTSRUN_LAUNCHER_LIBC, the same code runs on libc's
// syscall(2) (other CPUs need only those two pieces, written and tested on one).

#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/stat.h>
#include <stddef.h>

#define PATH_MAX_ 4096
#define X_OK_ 1
#define ENOENT_ 2
#define ENOMEM_ 12
#define EACCES_ 13
#define ENOTDIR_ 20
#define EINVAL_ 22
#define ENAMETOOLONG_ 36
#define ELOOP_ 40

#if defined(__x86_64__) && !defined(TSRUN_LAUNCHER_LIBC)
#define FREESTANDING 1
/** A system call: the kernel's result, -errno on failure. */
static long sys(long n, long a, long b, long c, long d, long e) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}

// The compiler may call these for array copies and initialisers; there is no libc to provide them.
void *memcpy(void *dst, const void *src, size_t n) {
  char *d = dst;
  const char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}
void *memset(void *dst, int c, size_t n) {
  char *d = dst;
  while (n--) *d++ = (char)c;
  return dst;
}
#else
#include <errno.h>
#include <string.h>
#include <unistd.h>
static long sys(long n, long a, long b, long c, long d, long e) {
  long ret = syscall(n, a, b, c, d, e);
  return ret < 0 ? -errno : ret;
}
#endif

static size_t len(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static int starts_with(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}

static void say(const char *s) { sys(__NR_write, 2, (long)s, (long)len(s), 0, 0); }

static __attribute__((noreturn)) void quit(int code) {
  for (;;) sys(__NR_exit_group, code, 0, 0, 0, 0);
}

static const char *errno_text(long err) {
  switch (err) {
  case ENOENT_: return "No such file or directory";
  case ENOMEM_: return "Cannot allocate memory";
  case EACCES_: return "Permission denied";
  case ENOTDIR_: return "Not a directory";
  case EINVAL_: return "Invalid argument";
  case ENAMETOOLONG_: return "File name too long";
  case ELOOP_: return "Too many levels of symbolic links";
  default: return "error";
  }
}

static __attribute__((noreturn)) void die(const char *what, const char *path, long err) {
  say("tsrun: ");
  say(what);
  say(" ");
  say(path);
  say(": ");
  say(errno_text(err));
  say("\n");
  quit(127);
}

/** dst = a + "/" + b, refusing what does not fit. */
static void join(char *dst, const char *a, const char *b) {
  size_t la = len(a), lb = len(b);
  if (la + 1 + lb >= PATH_MAX_) die("path too long:", a, ENAMETOOLONG_);
  memcpy(dst, a, la);
  dst[la] = '/';
  memcpy(dst + la + 1, b, lb + 1);
}

static const char *get_env(char **envp, const char *prefix) {
  for (char **e = envp; *e; e++)
    if (starts_with(*e, prefix)) return *e + len(prefix);
  return NULL;
}

/** The first executable `node` in $PATH (an empty entry means the current directory). */
static int find_node(char **envp, char *out) {
  const char *path = get_env(envp, "PATH=");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;; p++) {
    const char *end = p;
    while (*end && *end != ':') end++;
    size_t n = (size_t)(end - p);
    char dir[PATH_MAX_];
    if (n == 0) {
      dir[0] = '.';
      dir[1] = '\0';
    } else if (n < sizeof dir) {
      memcpy(dir, p, n);
      dir[n] = '\0';
    } else {
      dir[0] = '\0';
    }
    if (dir[0]) {
      join(out, dir, "node");
      if (sys(__NR_faccessat, AT_FDCWD, (long)out, X_OK_, 0, 0) == 0) return 0;
    }
    if (!*end) return -1;
    p = end;
  }
}

/** Modification time of a regular file at path (0 when it is missing or not a regular file). */
static int mtime_of(const char *path, struct statx_timestamp *out) {
  struct statx st;
  if (sys(__NR_statx, AT_FDCWD, (long)path, 0, STATX_TYPE | STATX_MTIME, (long)&st) < 0) return 0;
  if ((st.stx_mode & 0170000) != 0100000) return 0;
  *out = st.stx_mtime;
  return 1;
}

static int launch(int argc, char **argv, char **envp) {
  // <root>/bin/tsrun → <root>
  char root[PATH_MAX_];
  long n = sys(__NR_readlinkat, AT_FDCWD, (long)"/proc/self/exe", (long)root, sizeof root - 1, 0);
  if (n < 0) die("cannot read", "/proc/self/exe", -n);
  root[n] = '\0';
  for (int up = 0; up < 2; up++) {
    char *slash = NULL;
    for (char *c = root; *c; c++)
      if (*c == '/') slash = c;
    if (!slash) die("cannot find the package root from", root, EINVAL_);
    *slash = '\0';
  }
  if (root[0] == '\0') {
    root[0] = '/';
    root[1] = '\0';
  }

  char node[PATH_MAX_];
  if (find_node(envp, node) < 0) {
    say("tsrun: node (>= 20) is not on PATH\n");
    quit(127);
  }

  char blob[PATH_MAX_], bundle[PATH_MAX_];
  join(blob, root, "dist/tsrun.blob");
  join(bundle, root, "dist/tsrun.js");
  struct statx_timestamp blob_t, node_t;
  int use_blob = mtime_of(blob, &blob_t) && mtime_of(node, &node_t)
    && (node_t.tv_sec < blob_t.tv_sec || (node_t.tv_sec == blob_t.tv_sec && node_t.tv_nsec <= blob_t.tv_nsec));

  // The environment without NODE_EXTRA_CA_CERTS and, with the snapshot, TSRUN_PACKAGE_ROOT=<root>
  // (the snapshot's code has no file of its own to find the package from).
  int envc = 0;
  while (envp[envc]) envc++;
  char *env[envc + 2];
  char root_var[PATH_MAX_ + 32];
  int e = 0;
  for (int i = 0; i < envc; i++) {
    if (starts_with(envp[i], "NODE_EXTRA_CA_CERTS=") || starts_with(envp[i], "TSRUN_PACKAGE_ROOT=")) continue;
    env[e++] = envp[i];
  }
  if (use_blob) {
    static const char name[] = "TSRUN_PACKAGE_ROOT=";
    memcpy(root_var, name, sizeof name - 1);
    memcpy(root_var + sizeof name - 1, root, len(root) + 1);
    env[e++] = root_var;
  }
  env[e] = NULL;

  // node [--snapshot-blob BLOB --] | [BUNDLE]  then the user's arguments
  char *args[argc + 4];
  int a = 0;
  args[a++] = node;
  if (use_blob) {
    args[a++] = "--snapshot-blob";
    args[a++] = blob;
    args[a++] = "--";
  } else {
    args[a++] = bundle;
  }
  for (int i = 1; i < argc; i++) args[a++] = argv[i];
  args[a] = NULL;
  long err = sys(__NR_execve, (long)node, (long)args, (long)env, 0, 0);
  die("cannot execute", node, -err);
}

#ifdef FREESTANDING
/** Called by _start with the initial stack: argc, argv[], NULL, envp[], NULL. */
__attribute__((noreturn, used)) void launcher_start(long *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  quit(launch(argc, argv, argv + argc + 1));
}
__asm__(".text\n.global _start\n_start:\n  xor %rbp, %rbp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call launcher_start\n");
#else
int main(int argc, char **argv, char **envp) { return launch(argc, argv, envp); }
#endif
