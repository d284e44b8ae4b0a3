// bin/tsrun (built by `make build`), the command users run: it execs Node on tsrun's V8 startup
// snapshot (dist/tsrun.blob), where the CLI's code is already in the heap.
//
//   node        the first executable `node` on PATH (no shell: same rule as execvp)
//   snapshot    dist/tsrun.blob, used only when it fits this node and this CPU (snapshot_unfit below);
//               otherwise the plain bundle runs (dist/tsrun.js, the same code started normally)
//   package     found from /proc/self/exe, so a symlink to bin/tsrun (e.g. in /usr/local/bin) works
//
// NODE_EXTRA_CA_CERTS is removed: tsrun opens no TLS connections, and Node would parse that CA bundle
// at every start (~40 ms here). Containers get their environment from config.json, not from here.
// With --debug among the arguments it says on stderr which of the two it started, and why.
//
// Why it is written against system calls, without a C library: every tsrun command pays for this
// program's own start before Node's. It was a /bin/sh script (~1.1 ms, A/B of `tsrun --version`),
// then a static glibc program (~0.8 ms: the exec of a 760 KB binary and libc's start-up); without
// libc it is 10 KB and ~0.15 ms (A/B, 150 alternating runs of each). On x86-64 it is freestanding
// (`sys` and `_start` below); elsewhere, or with -DTSRUN_LAUNCHER_LIBC, the same code runs on libc's
// syscall(2) (other CPUs need only those two pieces, written and tested on one).
//
// Built with -DTSRUN_SNAPSHOT_KEY_TOOL, the same file is native-bindings/build/tsrun-snapshot-key,
// which prints the key scripts/bundle.mjs records next to the snapshot (see "The snapshot key").

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

static void say(const char *s) { sys(__NR_write, 2, (long)s, (long)len(s), 0, 0); }

static __attribute__((noreturn)) void quit(int code) {
  for (;;) sys(__NR_exit_group, code, 0, 0, 0, 0);
}

// ---- The snapshot key -------------------------------------------------------------------------------
// Node refuses a startup snapshot (exit 14, before any JavaScript ran: "Failed to load the startup
// snapshot because it was built with a different version of V8 or with different V8 configurations")
// unless it was built by the same Node version and V8's configuration tag matches
// (node's SnapshotData::Check). The tag is v8::ScriptCompiler::CachedDataVersionTag(): a hash of
// the V8 version, FlagList::Hash() (every V8 flag not at its default) and
// CpuFeatures::SupportedFeatures(), the features CpuFeatures::ProbeImpl (src/codegen/x64/
// assembler-x64.cc) derives from base::CPU (src/base/cpu.cc). For Node 20 (V8 11.3) on x86-64:
//   CPUID 1 ECX     SSE3 (0), SSSE3 (9), FMA3 (12), SSE4.1 (19), SSE4.2 (20), POPCNT (23), AVX (28);
//                   AVX, AVX2 and FMA3 count only with OSXSAVE (27) and XCR0 bits 1-2 (xgetbv), and
//                   each of SSSE3 … AVX2 only with the one below it (AVX needs SSE4.2 and so on)
//   CPUID 1 EAX     family 6 with one of ten Atom models (INTEL_ATOM)
//   CPUID 7.0       EBX BMI1 (3), AVX2 (5), BMI2 (8); ECX CET shadow stack (7)
//   CPUID 80000001h ECX LAHF/SAHF (0), LZCNT (5)
// (newer V8s' base::CPU also reads F16C, AVX-VNNI in leaf 7.1, and model and stepping for Intel's
// JCC erratum). V8 sets no flag from the CPU, so the flag hash depends on options only. So the build
// records, next to the blob, what decides each part, and this program compares it before every start:
//   node   the file's identity (device, inode, size, mtime, ctime): another node, or the same path
//          upgraded, never passes for the one that built the snapshot
//   cpu    the whole words V8 reads them from (a superset: a CPU differing only in bits V8 ignores
//          costs the snapshot, never the start), XCR0 included
//   blob   its size, so a blob that is not the one the key was written for is not trusted
// and the flags: the build runs without NODE_OPTIONS, and a command with NODE_OPTIONS set starts
// the plain bundle (a V8 option in it, e.g. --max-old-space-size, changes the flag hash).
//
// Why not try the snapshot and fall back when node exits 14: that needs this program to fork, wait
// and stay as the parent of every command (its pid, signals and terminal are the command's), and
// a container's own exit status 14, passed through by `run`, would run the command a second time.

/** Text built in a fixed buffer; what does not fit makes it unusable (never a truncated match). */
struct text {
  char at[1024];
  size_t len;
  int overflow;
};

static void put(struct text *t, const char *s) {
  for (; *s; s++) {
    if (t->len + 1 >= sizeof t->at) {
      t->overflow = 1;
      return;
    }
    t->at[t->len++] = *s;
  }
}

static void put_hex(struct text *t, unsigned long long v) {
  char digits[17];
  int n = 16;
  digits[n] = '\0';
  do digits[--n] = "0123456789abcdef"[v & 15]; while (v >>= 4);
  put(t, " ");
  put(t, digits + n);
}

static int stat_file(const char *path, struct statx *st) {
  return sys(__NR_statx, AT_FDCWD, (long)path, 0, STATX_BASIC_STATS, (long)st) == 0 && (st->stx_mode & 0170000) == 0100000;
}

#if defined(__x86_64__) && !defined(TSRUN_LAUNCHER_HWCAP)
static void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "0"(leaf), "2"(sub));
}

/** The CPUID words V8 reads its features from (leaves present on this CPU; absent ones are 0). Not
 * leaf 1's EBX: it holds the APIC id of whichever core this runs on. */
static int put_cpu(struct text *t) {
  unsigned id0[4], id1[4] = {0}, id70[4] = {0}, id71[4] = {0}, ext0[4], ext1[4] = {0}, xcr0_lo = 0, xcr0_hi = 0;
  cpuid(0, 0, id0);
  if (id0[0] >= 1) cpuid(1, 0, id1);
  if (id0[0] >= 7) {
    cpuid(7, 0, id70);
    if (id70[0] >= 1) cpuid(7, 1, id71);
  }
  cpuid(0x80000000u, 0, ext0);
  if (ext0[0] >= 0x80000001u) cpuid(0x80000001u, 0, ext1);
  // xgetbv faults unless the OS enabled XSAVE (OSXSAVE); V8 reads XCR0 under the same condition.
  if (id1[2] & (1u << 27)) __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const unsigned words[] = {id0[1], id0[3], id0[2], id1[0], id1[2], id1[3], id70[1], id70[2], id70[3],
                            id71[0], id71[3], ext1[2], ext1[3], xcr0_lo, xcr0_hi};
  put(t, "cpu x86-64");
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) put_hex(t, words[i]);
  return 1;
}
#elif defined(__aarch64__) || defined(TSRUN_LAUNCHER_HWCAP)
#ifdef FREESTANDING
#error "-DTSRUN_LAUNCHER_HWCAP reads the hwcaps with libc's getauxval: add -DTSRUN_LAUNCHER_LIBC"
#endif
#include <sys/auxv.h>
/** On arm64 Linux V8 takes every feature it uses from the ELF hwcaps (src/base/cpu.cc). On x86-64,
 * -DTSRUN_LAUNCHER_HWCAP builds this variant for tests only: x86 hwcaps do not hold what V8 reads. */
static int put_cpu(struct text *t) {
  put(t, "cpu hwcap");
  put_hex(t, getauxval(AT_HWCAP));
  put_hex(t, getauxval(AT_HWCAP2));
  return 1;
}
#else
/** Elsewhere V8 also reads /proc/cpuinfo or other probes this program does not repeat: no key, and
 * the plain bundle always runs. */
static int put_cpu(struct text *t) {
  (void)t;
  return 0;
}
#endif

/** The key of blob for node on this machine (see above); 0 when it cannot be made. */
static int snapshot_key(struct text *t, const char *node, const char *blob) {
  struct statx n, b;
  if (!stat_file(node, &n) || !stat_file(blob, &b)) return 0;
  put(t, "tsrun-snapshot-key 1\nnode");
  put_hex(t, n.stx_dev_major);
  put_hex(t, n.stx_dev_minor);
  put_hex(t, n.stx_ino);
  put_hex(t, n.stx_size);
  put_hex(t, (unsigned long long)n.stx_mtime.tv_sec);
  put_hex(t, n.stx_mtime.tv_nsec);
  put_hex(t, (unsigned long long)n.stx_ctime.tv_sec);
  put_hex(t, n.stx_ctime.tv_nsec);
  put(t, "\n");
  if (!put_cpu(t)) return 0;
  put(t, "\nblob");
  put_hex(t, b.stx_size);
  put(t, "\n");
  return !t->overflow;
}

#ifndef TSRUN_SNAPSHOT_KEY_TOOL
static int starts_with(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
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

/** Whether node is node itself, not something that picks a node when it runs: a version manager's
 * shim (volta, mise: a symlink to their own program; asdf, nodenv: a script), or a node linked to a
 * shared libnode, would keep its identity while the node that runs changes. Node embeds V8 (tens of
 * MB); a file named node* under 16 MiB is not that. */
static int is_node_itself(const char *node) {
  char path[PATH_MAX_], target[PATH_MAX_], next[PATH_MAX_];
  size_t n = len(node);
  if (n >= sizeof path) return 0;
  memcpy(path, node, n + 1);
  for (int hops = 0; hops < 40; hops++) {
    long got = sys(__NR_readlinkat, AT_FDCWD, (long)path, (long)target, sizeof target - 1, 0);
    if (got == -EINVAL_) {
      const char *name = path;
      for (const char *c = path; *c; c++)
        if (*c == '/') name = c + 1;
      struct statx st;
      return starts_with(name, "node") && stat_file(path, &st) && st.stx_size >= (16u << 20);
    }
    if (got < 0) return 0;
    target[got] = '\0';
    if (target[0] == '/') {
      memcpy(path, target, (size_t)got + 1);
      continue;
    }
    // A relative target is relative to the link's directory.
    char *slash = NULL;
    for (char *c = path; *c; c++)
      if (*c == '/') slash = c;
    if (slash) {
      *slash = '\0';
      if (len(path) + 1 + (size_t)got >= sizeof next) return 0;
      join(next, slash == path ? "" : path, target);
      memcpy(path, next, len(next) + 1);
    } else {
      memcpy(path, target, (size_t)got + 1);
    }
  }
  return 0;
}

/** NULL when node will accept the snapshot blob, else why the plain bundle runs instead. */
static const char *snapshot_unfit(char **envp, const char *node, const char *blob, const char *key_file) {
  const char *options = get_env(envp, "NODE_OPTIONS=");
  if (options && *options) return "NODE_OPTIONS is set (a V8 option in it would change V8's configuration tag)";
  struct text want = {.len = 0, .overflow = 0};
  if (!snapshot_key(&want, node, blob)) {
    struct statx st;
    return stat_file(blob, &st) ? "cannot identify node and this CPU" : "no startup snapshot";
  }
  struct text have = {.len = 0, .overflow = 0};
  long fd = sys(__NR_openat, AT_FDCWD, (long)key_file, O_RDONLY | O_CLOEXEC, 0, 0);
  if (fd < 0) return "no snapshot key (dist/tsrun.blob.key)";
  long got = sys(__NR_read, fd, (long)have.at, sizeof have.at, 0, 0);
  sys(__NR_close, fd, 0, 0, 0, 0);
  if (got != (long)want.len) return "the snapshot was built for another node or CPU";
  for (size_t i = 0; i < want.len; i++)
    if (have.at[i] != want.at[i]) return "the snapshot was built for another node or CPU";
  if (!is_node_itself(node)) return "node is not node itself (a version manager's shim, or a small node on a shared libnode)";
  return NULL;
}

/** --debug among the global options, the words before the command (src/cli/parse-args.ts has the
 * same rule): after the command it is the command's, and the value of --root/--log/--log-format is a
 * value, whatever it looks like. */
static int wants_debug(int argc, char **argv) {
  static const char *const with_value[] = {"--root", "--log", "--log-format"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || a[1] == '\0') return 0; // the command (or "-")
    if (a[1] == '-' && a[2] == '\0') return 0;  // "--"
    if (starts_with(a, "--debug") && a[7] == '\0') return 1;
    for (size_t v = 0; v < sizeof with_value / sizeof with_value[0]; v++)
      if (starts_with(a, with_value[v]) && a[len(with_value[v])] == '\0') i++;
  }
  return 0;
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

  char blob[PATH_MAX_], key_file[PATH_MAX_], bundle[PATH_MAX_];
  join(blob, root, "dist/tsrun.blob");
  join(key_file, root, "dist/tsrun.blob.key");
  join(bundle, root, "dist/tsrun.js");
  const char *unfit = snapshot_unfit(envp, node, blob, key_file);
  int use_blob = unfit == NULL;
  if (wants_debug(argc, argv)) {
    say("tsrun: debug: launcher: ");
    say(use_blob ? blob : bundle);
    if (unfit) {
      say(": ");
      say(unfit);
    }
    say("\n");
  }

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
#else
/** tsrun-snapshot-key NODE BLOB: prints the key of BLOB for NODE on this machine. */
static __attribute__((noreturn)) int launch(int argc, char **argv, char **envp) {
  (void)envp;
  if (argc != 3) {
    say("usage: tsrun-snapshot-key NODE BLOB\n");
    quit(2);
  }
  struct text key = {.len = 0, .overflow = 0};
  if (!snapshot_key(&key, argv[1], argv[2])) {
    say("tsrun-snapshot-key: cannot make the key (a missing file, or a CPU this program cannot describe)\n");
    quit(1);
  }
  quit(sys(__NR_write, 1, (long)key.at, (long)key.len, 0, 0) == (long)key.len ? 0 : 1);
}
#endif

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
