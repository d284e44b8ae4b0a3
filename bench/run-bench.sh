#!/usr/bin/env bash
# `make bench-run`: time `tsrun run` of /bin/true against runc, crun and Node's own start, in one
# hyperfine run on a private copy of the sample busybox bundle.
#
#   RUNS=N     timed runs per command (default 30); WARMUP=N warm-up runs (default 3)
#
# Prints a table of medians, the ratios tsrun/runc and tsrun/crun, and tsrun − `node -e 0` (the
# project goal: tsrun run /bin/true <= node -e 0 + 15 ms), then a markdown summary for the README.
# Writes bench/results/run-<UTC date and time>.json (hyperfine's raw export plus the summary).
# Leaves nothing behind: no containers, no cgroups (/sys/fs/cgroup/*/tsrun-bench-*-<pid>), no
# temp dir, no mounts.
set -euo pipefail

# shellcheck source=bench/run-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/run-common.sh"

# bin/tsrun unsets NODE_EXTRA_CA_CERTS (tsrun makes no TLS connections); where the environment sets
# it, every Node start parses a CA bundle (~37 ms here). Compare like with like: `node -e 0` without it.
unset NODE_EXTRA_CA_CERTS

runs=${RUNS:-30}
warmup=${WARMUP:-3}
[[ $runs =~ ^[0-9]+$ && $runs -ge 2 ]] || die "RUNS must be a number >= 2 (got '$runs')"
[[ $warmup =~ ^[0-9]+$ ]] || die "WARMUP must be a number (got '$warmup')"

need_root
need_cmds hyperfine runc crun unshare node
need_build
unified_was_mounted=0
host_is_hybrid && unified_was_mounted=1

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
make_bundles

names=("tsrun run" "runc run" "crun run" "node -e 0" "unshare -m true")
cmds=("$(tsrun_cmd)" "$(runc_cmd)" "$(crun_cmd)" "node -e 0" "unshare -m --propagation private true")

# Preflight: every command twice in a row with the same container id (run deletes at exit, so the
# id must be free again), exit status 0, nothing left behind. Also shows each command's stderr once.
for i in "${!cmds[@]}"; do
  for pass in 1 2; do
    if ! out=$(bash -c "exec ${cmds[$i]}" 2>&1 </dev/null); then
      printf '%s\n' "$out" >&2
      die "preflight: '${names[$i]}' failed (pass $pass): ${cmds[$i]}"
    fi
    [[ $pass == 1 && -n $out ]] && note "preflight: ${names[$i]} says: $out"
  done
done
check_leftovers || die "preflight left state behind (see above)"

mkdir -p "$results_dir"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
raw="$tmp/hyperfine.json"
out_json="$results_dir/run-$stamp.json"

hyperfine_args=(--warmup "$warmup" --runs "$runs" --shell=none --style basic --export-json "$raw")
for i in "${!cmds[@]}"; do hyperfine_args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
echo "hyperfine: $runs runs, $warmup warm-up, on a copy of $sample (process.args [\"/bin/true\"])" >&2
# CPU time of the whole host around the run: what others used shows how much they disturbed it.
stat_before=$(head -1 /proc/stat); up_before=$(cut -d' ' -f1 /proc/uptime)
hyperfine "${hyperfine_args[@]}" </dev/null >&2
stat_after=$(head -1 /proc/stat); up_after=$(cut -d' ' -f1 /proc/uptime)

leftovers=ok
check_leftovers || leftovers=found

# Host and version facts for the record.
export BENCH_RAW="$raw" BENCH_OUT="$out_json" BENCH_STAMP="$stamp" BENCH_RUNS="$runs" \
  BENCH_WARMUP="$warmup" BENCH_LEFTOVERS="$leftovers" BENCH_HYBRID="$unified_was_mounted" \
  BENCH_STAT_BEFORE="$stat_before" BENCH_STAT_AFTER="$stat_after" BENCH_UP_BEFORE="$up_before" \
  BENCH_UP_AFTER="$up_after" BENCH_HZ="$(getconf CLK_TCK)" \
  BENCH_GIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- src native-bindings 2>/dev/null || echo '+dirty')" \
  BENCH_TSRUN="$("$repo/bin/tsrun" --version 2>/dev/null || echo unknown)" \
  BENCH_NODE="$(node --version)" \
  BENCH_RUNC="$(runc --version | head -1 | awk '{print $3}')" \
  BENCH_CRUN="$(crun --version | head -1 | awk '{print $3}')" \
  BENCH_HYPERFINE="$(hyperfine --version | awk '{print $2}')" \
  BENCH_KERNEL="$(uname -r)" BENCH_CPUS="$(nproc)" \
  BENCH_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
node "$repo/bench/run-report.mjs"
echo "results: ${out_json#"$repo"/}" >&2
[[ $leftovers == ok ]] || die "the runs left state behind (see above); clean-up removed it"
