// bin/tsrun (built by `make build`), the command users run: it execs Node on tsrun's V8 startup
// snapshot (dist/tsrun.blob), where the CLI's code is already in the heap. It was a /bin/sh script:
// starting a shell, its PATH walk and the second execve cost ~1.1 ms of every command against ~0.8
// for this static program (A/B of `tsrun --version`, 150 alternating runs), which does the same
// work in a few system calls.
//
//   node        the first executable `node` on PATH (no shell: same rule as execvp)
//   snapshot    dist/tsrun.blob, used unless it is missing or older than node: a snapshot works only
//               with the node binary that built it, so after an upgrade the plain bundle runs
//               (dist/tsrun.js, the same code started normally) until `make build` is run again
//   package     found from /proc/self/exe, so a symlink to bin/tsrun (e.g. in /usr/local/bin) works
//
// NODE_EXTRA_CA_CERTS is removed: tsrun opens no TLS connections, and Node would parse that CA bundle
// at every start (~40 ms here). Containers get their environment from config.json, not from here.
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *path, int err) {
  fprintf(stderr, "tsrun: %s %s: %s\n", what, path, strerror(err));
  exit(127);
}

/** dst = a + "/" + b, refusing what does not fit. */
static void join(char *dst, size_t size, const char *a, const char *b) {
  if ((size_t)snprintf(dst, size, "%s/%s", a, b) >= size) die("path too long:", a, ENAMETOOLONG);
}

/** The first executable `node` in $PATH (an empty entry means the current directory). */
static int find_node(char *out, size_t size) {
  const char *path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char dir[PATH_MAX];
    if (len == 0) {
      strcpy(dir, ".");
    } else if (len < sizeof dir) {
      memcpy(dir, p, len);
      dir[len] = '\0';
    } else {
      dir[0] = '\0';
    }
    if (dir[0]) {
      join(out, size, dir, "node");
      if (access(out, X_OK) == 0) return 0;
    }
    if (!end) return -1;
    p = end;
  }
}

int main(int argc, char **argv) {
  // <root>/bin/tsrun → <root>
  char root[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", root, sizeof root - 1);
  if (n < 0) die("cannot read", "/proc/self/exe", errno);
  root[n] = '\0';
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(root, '/');
    if (!slash) die("cannot find the package root from", root, EINVAL);
    *slash = '\0';
  }
  if (root[0] == '\0') strcpy(root, "/");

  char node[PATH_MAX];
  if (find_node(node, sizeof node) < 0) {
    fprintf(stderr, "tsrun: node (>= 20) is not on PATH\n");
    return 127;
  }
  unsetenv("NODE_EXTRA_CA_CERTS");

  char blob[PATH_MAX], bundle[PATH_MAX];
  join(blob, sizeof blob, root, "dist/tsrun.blob");
  join(bundle, sizeof bundle, root, "dist/tsrun.js");
  struct stat blob_st, node_st;
  int use_blob = stat(blob, &blob_st) == 0 && S_ISREG(blob_st.st_mode) && stat(node, &node_st) == 0
    && (node_st.st_mtim.tv_sec < blob_st.st_mtim.tv_sec
        || (node_st.st_mtim.tv_sec == blob_st.st_mtim.tv_sec && node_st.st_mtim.tv_nsec <= blob_st.st_mtim.tv_nsec));

  // node [--snapshot-blob BLOB --] | [BUNDLE]  then the user's arguments
  char **args = calloc((size_t)argc + 4, sizeof *args);
  if (!args) die("out of memory for", "argv", ENOMEM);
  int i = 0;
  args[i++] = node;
  if (use_blob) {
    if (setenv("TSRUN_PACKAGE_ROOT", root, 1) < 0) die("cannot set", "TSRUN_PACKAGE_ROOT", errno);
    args[i++] = "--snapshot-blob";
    args[i++] = blob;
    args[i++] = "--";
  } else {
    args[i++] = bundle;
  }
  for (int a = 1; a < argc; a++) args[i++] = argv[a];
  args[i] = NULL;
  execv(node, args);
  die("cannot execute", node, errno);
}
