#!/usr/bin/env bash
# `make bench-lazy`: which functions does one `tsrun run` of /bin/true still compile at run time?
#
# V8 compiles a function on its first call. The startup snapshot keeps the bytecode of every function
# that ran while it was built, and src/startup/warm-up.ts rehearses `run` then for that reason;
# whatever the rehearsal misses is parsed and compiled again by every start. This script builds a
# second snapshot with V8's function-event log turned on (the flags must be the same at build and at
# run time, or V8 refuses the blob), runs the sample bundle from it once, and prints, per script,
# how many functions were compiled during the run and their names.
#
#   bench/lazy-functions.sh            # the summary
#   LAZY_ALL=1 bench/lazy-functions.sh # every script, not only the ten costliest
set -euo pipefail

# shellcheck source=bench/run-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/run-common.sh"

need_root
need_cmds node
need_build
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
make_bundles

log="$tmp/v8.log"
flags=(--log-function-events "--logfile=$log" --no-logfile-per-isolate)
node --no-warnings "${flags[@]}" --snapshot-blob "$tmp/logging.blob" --build-snapshot "$repo/dist/snapshot/tsrun.cjs"
rm -f "$log"
# TSRUN_NODE_EXIT: end through Node's exit, which flushes the log (tsrun's _exit would not).
TSRUN_PACKAGE_ROOT=$repo TSRUN_NODE_EXIT=1 node "${flags[@]}" --snapshot-blob "$tmp/logging.blob" -- run --bundle "$tmp/tsrun" "$tsrun_id"
node "$repo/bench/lazy-functions-report.mjs" "$log" "${LAZY_ALL:+all}"
check_leftovers
