#!/usr/bin/env bash
# `make bench-profile`: where does the time of one `tsrun run` of /bin/true go?
#
#   1. wall time without any tracer (median of RUNS, default 5), tsrun and `node -e 0`
#   2. `tsrun run --trace`: the per-step durations tsrun reports (parent: clone, id maps, cgroup
#      files; child: each plan step)
#   3. `strace -f -tt -e trace=execve,clone,clone3,exit_group,wait4` (median of RUNS): wall-clock
#      markers node start -> clone of the container -> execve /bin/true -> container exit ->
#      reaped (wait4) -> tsrun exit_group; `node -e 0` under the same strace for comparison
#   4. `node --cpu-prof` of one run: self time by bundle/source file (via the source maps), Node
#      internals, GC and idle, and the heaviest functions
#
# Files in bench/results/: run-profile-<stamp>.cpuprofile (open in Chrome DevTools / speedscope),
# .trace.txt, .strace.txt (last traced run) and .json (the breakdown). Prints the breakdown.
set -euo pipefail

# shellcheck source=bench/run-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/run-common.sh"

runs=${RUNS:-5}
[[ $runs =~ ^[0-9]+$ && $runs -ge 1 ]] || die "RUNS must be a number >= 1 (got '$runs')"

need_root
need_cmds strace node
need_build
unified_was_mounted=0
host_is_hybrid && unified_was_mounted=1

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
make_bundles

mkdir -p "$results_dir"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
base="$results_dir/run-profile-$stamp"
tsrun=(node "$repo/bin/tsrun.js" run --bundle "$tmp/tsrun" "$tsrun_id")

# strace's seccomp-bpf filter stops the tracee only at the traced syscalls: far less overhead.
strace_opts=(-f -tt -e trace=execve,clone,clone3,exit_group,wait4)
if strace --seccomp-bpf -f -e trace=exit_group -o /dev/null true 2>/dev/null; then
  strace_opts=(--seccomp-bpf "${strace_opts[@]}")
fi

# 1. untraced wall time (ms, 3 decimals), one line per run
wall() {
  local t0 t1
  t0=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 </dev/null || die "failed: $*"
  t1=$EPOCHREALTIME
  echo "$(((${t1/./} - ${t0/./})))"   # microseconds
}
"${tsrun[@]}" >/dev/null 2>&1 </dev/null || die "tsrun run failed: ${tsrun[*]}"   # warm the page cache
node -e 0
cpu_mark
: >"$tmp/wall-tsrun"; : >"$tmp/wall-node"
for ((i = 0; i < runs; i++)); do
  wall "${tsrun[@]}" >>"$tmp/wall-tsrun"
  wall node -e 0 >>"$tmp/wall-node"
done

# 2. --trace
node "$repo/bin/tsrun.js" run --trace --bundle "$tmp/tsrun" "$tsrun_id" </dev/null >/dev/null 2>"$base.trace.txt" || die "tsrun run --trace failed (see $base.trace.txt)"

# 3. strace markers
for ((i = 0; i < runs; i++)); do
  strace "${strace_opts[@]}" -o "$tmp/strace-tsrun.$i" "${tsrun[@]}" </dev/null >/dev/null 2>&1 ||
    die "tsrun run under strace failed"
  strace "${strace_opts[@]}" -o "$tmp/strace-node.$i" node -e 0 </dev/null >/dev/null 2>&1
done
cp "$tmp/strace-tsrun.$((runs - 1))" "$base.strace.txt"

# 4. CPU profile of one run (500 µs sampling)
# 500 µs, not 100: bpf(BPF_PROG_LOAD) gives up with EAGAIN when a signal (the profiler's SIGPROF)
# keeps arriving while the verifier works, and tsrun retries it only a few times.
node --cpu-prof --cpu-prof-dir="$results_dir" --cpu-prof-name="${base##*/}.cpuprofile" --cpu-prof-interval 500 \
  "$repo/bin/tsrun.js" run --bundle "$tmp/tsrun" "$tsrun_id" </dev/null >/dev/null 2>&1 || die "tsrun run --cpu-prof failed"

others=$(cpu_others)
check_leftovers || die "the runs left state behind (see above)"

PROF_TMP="$tmp" PROF_OTHERS="$others" PROF_CPUS="$(nproc)" PROF_RUNS="$runs" PROF_BASE="$base" PROF_REPO="$repo" PROF_STRACE_OPTS="${strace_opts[*]}" \
  node "$repo/bench/run-profile-report.mjs"
echo "files: ${base#"$repo"/}.{cpuprofile,trace.txt,strace.txt,json}" >&2
