#!/usr/bin/env bash
# Run by bench/api-bench.mjs inside the private mount namespace crun needs on this hybrid host:
# N × `crun run -d` at once (wall time until the last has returned), then deletes them (untimed).
#   api-crun-parallel.sh N BUNDLE ID_PREFIX   → prints SECONDS
set -uo pipefail
n=$1 bundle=$2 prefix=$3
t0=$(date +%s.%N)
for ((i = 0; i < n; i++)); do crun run -d --bundle "$bundle" "$prefix$i" </dev/null >/dev/null 2>&1 & done
wait
t1=$(date +%s.%N)
for ((i = 0; i < n; i++)); do crun delete -f "$prefix$i" >/dev/null 2>&1 & done
wait
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }'
