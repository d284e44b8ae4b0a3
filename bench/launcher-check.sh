#!/usr/bin/env bash
# What bin/tsrun's snapshot check costs (issue 13): the launcher of BASE (default: the commit before the
# check, which compared only mtimes) against the working tree's, A/B interleaved.
#
#   bench/launcher-check.sh [BASE]      BASE: a commit (default: the one before the key check came);
#                                       RUNS=N alternating pairs (default 2000 for the launcher alone,
#                                       RUNS_E2E=N, default 300, for `tsrun --version`)
#
# 1. The launcher alone: each build of it execs a stand-in `node` (a 16 MiB static program that exits
#    at once, so that the new launcher takes its whole path: key read, statx, cpuid, readlink) on a
#    package whose snapshot fits; the difference of the medians is the check's cost.
# 2. End to end: `tsrun --version` on this repo's real dist/ (node on the snapshot), old launcher
#    against new.
# Needs `make build`. Leaves nothing behind (one temp dir).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=${1:-$(git -C "$repo" log --format=%H -S'tsrun-snapshot-key 1' -- native-bindings/launcher.c | tail -1)~1}
runs=${RUNS:-2000}
runs_e2e=${RUNS_E2E:-300}
[ -f "$repo/dist/tsrun.blob.key" ] || { echo "launcher-check: run make build first" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cflags=(-O2 -static -nostdlib -ffreestanding -fno-stack-protector -fno-tree-loop-distribute-patterns -Wall -Wextra)
git -C "$repo" show "$base:native-bindings/launcher.c" > "$tmp/old.c"
for v in old new; do
  mkdir -p "$tmp/$v/bin" "$tmp/$v/dist"
  src=$tmp/old.c; [ $v = new ] && src=$repo/native-bindings/launcher.c
  cc "${cflags[@]}" -o "$tmp/$v/bin/tsrun" "$src"
  ln -s "$repo/dist/tsrun.js" "$tmp/$v/dist/tsrun.js"
  ln -s "$repo/dist/snapshot" "$tmp/$v/dist/snapshot"
  ln -s "$repo/dist/tsrun.blob" "$tmp/$v/dist/tsrun.blob"
done

# The stand-in node, padded to node's size class (the launcher trusts no `node` under 16 MiB).
mkdir -p "$tmp/fake"
printf '%s\n' '__asm__(".globl _start\n_start: mov $60, %eax\n xor %edi, %edi\n syscall");' > "$tmp/fake.c"
cc "${cflags[@]}" -o "$tmp/fake/node" "$tmp/fake.c"
truncate -s 17M "$tmp/fake/node"
touch -d '2000-01-01' "$tmp/fake/node"   # older than the blob: the old launcher takes its snapshot path too

# The harness: spawns A and B alternately, RUNS times each, and prints medians and quartiles in µs.
cat > "$tmp/ab.c" <<'EOF'
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
extern char **environ;
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static posix_spawn_file_actions_t quiet;   /* stdout to /dev/null */
static double once(char **argv) {
  struct timespec t0, t1; pid_t pid; int st;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (posix_spawn(&pid, argv[0], &quiet, NULL, argv, environ) != 0) { perror("spawn"); exit(1); }
  waitpid(pid, &st, 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "%s exited %d\n", argv[0], st); exit(1); }
  return (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3;
}
int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", 1 /* O_WRONLY */, 0);
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  char *va[64] = {argv[2]}, *vb[64] = {argv[3]};
  for (int i = 4; i < argc && i < 60; i++) va[i - 3] = vb[i - 3] = argv[i];
  for (int i = 0; i < 20; i++) { once(va); once(vb); }
  for (int i = 0; i < n; i++) { a[i] = once(va); b[i] = once(vb); }
  qsort(a, n, sizeof *a, cmp); qsort(b, n, sizeof *b, cmp);
  printf("  old  median %8.1f µs  (p25 %.1f, p75 %.1f)\n", a[n / 2], a[n / 4], a[3 * n / 4]);
  printf("  new  median %8.1f µs  (p25 %.1f, p75 %.1f)\n", b[n / 2], b[n / 4], b[3 * n / 4]);
  printf("  new - old   %+8.1f µs\n", b[n / 2] - a[n / 2]);
  return 0;
}
EOF
cc -O2 -o "$tmp/ab" "$tmp/ab.c"

# A key for the stand-in node, made by the key tool (the new launcher then takes the snapshot path).
"$repo/native-bindings/build/tsrun-snapshot-key" "$tmp/fake/node" "$repo/dist/tsrun.blob" > "$tmp/new/dist/tsrun.blob.key"
said=$(PATH=$tmp/fake:$PATH "$tmp/new/bin/tsrun" --debug 2>&1 >/dev/null)
[[ $said == *"launcher: $tmp/new/dist/tsrun.blob" ]] ||
  { echo "launcher-check: the new launcher does not take the snapshot path with the stand-in node" >&2; exit 1; }
echo "launcher alone, exec of a stand-in node ($runs alternating runs each, base $base):"
PATH=$tmp/fake:$PATH "$tmp/ab" "$runs" "$tmp/old/bin/tsrun" "$tmp/new/bin/tsrun"

cp "$repo/dist/tsrun.blob.key" "$tmp/new/dist/tsrun.blob.key"
said=$("$tmp/new/bin/tsrun" --debug --version 2>&1 >/dev/null)
[[ $said == *"launcher: $tmp/new/dist/tsrun.blob" ]] ||
  { echo "launcher-check: the new launcher does not use the snapshot here (make build?)" >&2; exit 1; }
echo "tsrun --version on the snapshot ($runs_e2e alternating runs each):"
unset NODE_EXTRA_CA_CERTS NODE_OPTIONS
"$tmp/ab" "$runs_e2e" "$tmp/old/bin/tsrun" "$tmp/new/bin/tsrun" --version
