#!/usr/bin/env bash
# Run by bench/lifecycle-bench.sh (crun's copy inside the private mount namespace it needs): the
# parallel phase for one runtime. Per round:
#   run-d-1         N × `RT run -d` at once, wall time until the last one has returned
#   delete-serial   `RT delete -f` of the N, one after another
#   run-d-2         N × `RT run -d` at once again
#   delete-parallel N × `RT delete -f` at once
# Between phases (untimed) it checks that `RT list -q` shows exactly the containers it expects.
#
#   lifecycle-parallel.sh NAME ROUNDS N BUNDLE_PREFIX ID_PREFIX ERRFILE -- RT [global options…]
# Bundles are BUNDLE_PREFIX<i>, ids ID_PREFIX<i> (i = 01…N). Prints one line per phase on stdout:
#   NAME ROUND PHASE SECONDS FAILED
# Exit status 0 even when commands fail (FAILED counts them; their stderr goes to ERRFILE).
set -uo pipefail

name=$1 rounds=$2 n=$3 bundle_prefix=$4 id_prefix=$5 errfile=$6
shift 6
[[ ${1:-} == -- ]] && shift
rt=("$@")
((${#rt[@]} > 0)) || { echo "${0##*/}: no runtime command" >&2; exit 2; }

ids=()
for ((i = 1; i <= n; i++)); do ids+=("$(printf '%s%02d' "$id_prefix" "$i")"); done

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b - a }'; }

# What the runtime's root holds among our ids (sorted), one per line.
ours_listed() { "${rt[@]}" list -q 2>>"$errfile" | grep -E "^${id_prefix}[0-9]+$" | sort; }

expect() { # expect N|0 PHASE: notes a mismatch on stderr (the report shows FAILED already)
  local want=$1 phase=$2 have
  have=$(ours_listed | wc -l)
  if ((have != want)); then
    echo "${0##*/}: $name after $phase: $have of our containers listed, expected $want" >&2
    echo "$name after $phase: $have listed, expected $want" >>"$errfile"
  fi
}

# Runs "${rt[@]}" ARGS… ID for every id at once (ARGS given with @@ where the bundle goes);
# prints "SECONDS FAILED".
parallel() {
  local pids=() i t0 t1 failed=0 args
  t0=$EPOCHREALTIME
  for i in "${!ids[@]}"; do
    args=("${@//@@/$bundle_prefix$(printf '%02d' $((i + 1)))}")
    "${rt[@]}" "${args[@]}" "${ids[$i]}" </dev/null >/dev/null 2>>"$errfile" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
  t1=$EPOCHREALTIME
  echo "$(elapsed "$t0" "$t1") $failed"
}

serial() {
  local id t0 t1 failed=0
  t0=$EPOCHREALTIME
  for id in "${ids[@]}"; do
    "${rt[@]}" "$@" "$id" </dev/null >/dev/null 2>>"$errfile" || failed=$((failed + 1))
  done
  t1=$EPOCHREALTIME
  echo "$(elapsed "$t0" "$t1") $failed"
}

# Anything of ours still there (a failed phase): force it away so the next round starts clean.
sweep() {
  local id
  for id in $(ours_listed); do "${rt[@]}" delete -f "$id" </dev/null >/dev/null 2>>"$errfile"; done
}

for ((r = 1; r <= rounds; r++)); do
  echo "$name $r run-d-1 $(parallel run -d --bundle @@)"
  expect "$n" run-d-1
  echo "$name $r delete-serial $(serial delete -f)"
  expect 0 delete-serial
  sweep
  echo "$name $r run-d-2 $(parallel run -d --bundle @@)"
  expect "$n" run-d-2
  echo "$name $r delete-parallel $(parallel delete -f)"
  expect 0 delete-parallel
  sweep
done
