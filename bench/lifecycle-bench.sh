#!/usr/bin/env bash
# `make bench-lifecycle`: the container lifecycle of tsrun against runc and crun, in one run, on
# private copies of the sample busybox bundle (process.args ["sleep", "1000"]):
#
#  1. hyperfine (--shell=none), per runtime: `create`, `start`, `delete -f` (of a running
#     container) each timed alone — the steps before it are hyperfine's --prepare — and the whole
#     create+start+delete -f cycle as one small sh script.
#  2. N (default 50) `run -d` at once, then `delete -f` of the N one by one; N `run -d` at once
#     again, then `delete -f` of the N at once: the wall time of each phase (bench/lifecycle-parallel.sh).
#
#   RUNS=N     hyperfine timed runs per command (default 20); WARMUP=N (default 2)
#   ROUNDS=N   rounds of the parallel phases (default 3; medians are printed)
#   PARALLEL=N containers in the parallel phases (default 50)
#   UNSET_NODE_EXTRA_CA_CERTS=1  run everything without NODE_EXTRA_CA_CERTS: when set, every Node
#              start parses that CA bundle before any of tsrun's code runs (~35 ms of each tsrun
#              command on these hosts). Kept by default, like bench/run-bench.sh; noted in the output.
#
# Each runtime has its own --root (state) in the temp dir, its own config copies, and one absolute
# linux.cgroupsPath per container (/tsrun-bench-<runtime>-<container>-<pid>). On a hybrid-cgroup
# host crun's hyperfine and parallel phase run inside one private mount namespace with
# /sys/fs/cgroup/unified unmounted (crun refuses hybrid cgroups), so crun's figures hold no wrapper.
# Prints a table with the ratios tsrun/runc and tsrun/crun and a markdown summary for the README;
# writes bench/results/lifecycle-<UTC date and time>.json. CPU used by other processes is sampled
# before, during and after. Leaves nothing behind: containers, cgroups, temp dir.
set -euo pipefail

# shellcheck source=bench/run-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/run-common.sh"

runs=${RUNS:-20}
warmup=${WARMUP:-2}
rounds=${ROUNDS:-3}
par=${PARALLEL:-50}
[[ $runs =~ ^[0-9]+$ && $runs -ge 2 ]] || die "RUNS must be a number >= 2 (got '$runs')"
[[ $warmup =~ ^[0-9]+$ ]] || die "WARMUP must be a number (got '$warmup')"
[[ $rounds =~ ^[0-9]+$ && $rounds -ge 1 ]] || die "ROUNDS must be a number >= 1 (got '$rounds')"
[[ $par =~ ^[0-9]+$ && $par -ge 1 && $par -le 99 ]] || die "PARALLEL must be 1…99 (got '$par')"

# bin/tsrun unsets it itself (tsrun makes no TLS connections), so measure the others the same way.
if [[ ${UNSET_NODE_EXTRA_CA_CERTS:-1} == 1 ]]; then
  unset NODE_EXTRA_CA_CERTS
elif [[ -n ${NODE_EXTRA_CA_CERTS:-} ]]; then
  note "NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS is set: every tsrun command pays for loading it at Node's start (UNSET_NODE_EXTRA_CA_CERTS=1 to measure without)"
fi

need_root
need_cmds hyperfine runc crun unshare node
need_build
unified_was_mounted=0
host_is_hybrid && unified_was_mounted=1

runtimes=(tsrun runc crun)

# The command line of runtime $1 with its own state root: "${rt_cmd[@]}" after rt_argv NAME.
rt_argv() {
  case $1 in
    tsrun) rt_cmd=("$repo/bin/tsrun" --root "$tmp/lc-tsrun/state") ;;
    runc) rt_cmd=(runc --root "$tmp/lc-runc/state") ;;
    crun) rt_cmd=(crun --root "$tmp/lc-crun/state") ;;
  esac
}
# What runtime $1's commands run inside: crun, on a hybrid host, a private mount namespace without
# the cgroup2 mount (the umount never reaches the host's namespace).
ns_argv() {
  ns_cmd=()
  if [[ $1 == crun ]] && host_is_hybrid; then
    # shellcheck disable=SC2016
    ns_cmd=(unshare -m --propagation private -- bash -c 'umount /sys/fs/cgroup/unified && exec "$@"' _)
  fi
}
in_ns() { local rt=$1; shift; ns_argv "$rt"; "${ns_cmd[@]}" "$@"; }
cycle_id() { echo "lc-$1-cycle-$tag"; }
par_prefix() { echo "lc-$1-p-$tag-"; }

# Force-deletes every container left in our runtimes' roots (they hold only ours), then the
# shared clean-up: cgroups named tsrun-bench-*-<pid>, the temp dir.
lc_cleanup() {
  local rc=$? rt id
  set +e
  if [[ -n $tmp && -d $tmp ]]; then
    for rt in "${runtimes[@]}"; do
      [[ -d $tmp/lc-$rt/state ]] || continue
      rt_argv "$rt"
      for id in $(in_ns "$rt" "${rt_cmd[@]}" list -q 2>/dev/null); do
        note "leftover $rt container $id: deleting"
        in_ns "$rt" "${rt_cmd[@]}" delete -f "$id" </dev/null >/dev/null
      done
    done
  fi
  (exit "$rc")
  cleanup
}
trap lc_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

make_bundles   # $tmp, its rootfs copy (and run-bench's /bin/true configs, unused here)

# Config copies: $tmp/lc-<rt>/cycle/config.json and $tmp/lc-<rt>/p<NN>/config.json, and the
# scripts hyperfine runs (reset = force-delete the cycle container if it exists).
for rt in "${runtimes[@]}"; do
  mkdir -p "$tmp/lc-$rt"
  rt_argv "$rt"
  id=$(cycle_id "$rt")
  err="$tmp/lc-$rt/stderr.txt"
  b="$tmp/lc-$rt/cycle"
  q="${rt_cmd[*]}"   # no spaces in these paths (mktemp -d /tmp/tsrun-bench.XXXXXX)
  printf '#!/bin/sh\n%s delete -f %s >/dev/null 2>&1\nexit 0\n' "$q" "$id" >"$tmp/lc-$rt/reset.sh"
  printf '#!/bin/sh\nset -e\n%s/reset.sh\n%s create --bundle %s %s </dev/null >/dev/null 2>>%s\n' \
    "$tmp/lc-$rt" "$q" "$b" "$id" "$err" >"$tmp/lc-$rt/created.sh"
  printf '#!/bin/sh\nset -e\n%s/created.sh\n%s start %s 2>>%s\n' "$tmp/lc-$rt" "$q" "$id" "$err" >"$tmp/lc-$rt/running.sh"
  printf '#!/bin/sh\nset -e\n%s create --bundle %s %s </dev/null >/dev/null 2>>%s\n%s start %s\n%s delete -f %s\n' \
    "$q" "$b" "$id" "$err" "$q" "$id" "$q" "$id" >"$tmp/lc-$rt/cycle.sh"
  chmod +x "$tmp/lc-$rt"/*.sh
done
# shellcheck disable=SC2016  # JavaScript template literals, not shell
SAMPLE_CONFIG="$sample/config.json" LC_TMP="$tmp" TAG="$tag" N="$par" node --input-type=module -e '
  import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
  const env = process.env;
  const base = JSON.parse(readFileSync(env.SAMPLE_CONFIG, "utf8"));
  for (const rt of ["tsrun", "runc", "crun"]) {
    const names = ["cycle", ...Array.from({ length: +env.N }, (_, i) => "p" + String(i + 1).padStart(2, "0"))];
    for (const name of names) {
      const c = structuredClone(base);
      c.process.args = ["sleep", "1000"];
      c.process.terminal = false;
      c.root = { ...c.root, path: env.LC_TMP + "/rootfs" };
      c.linux = { ...c.linux, cgroupsPath: `/tsrun-bench-${rt}-${name}-${env.TAG}` };
      mkdirSync(`${env.LC_TMP}/lc-${rt}/${name}`, { recursive: true });
      writeFileSync(`${env.LC_TMP}/lc-${rt}/${name}/config.json`, JSON.stringify(c, null, 2) + "\n");
    }
  }'

# Preflight: the cycle once by hand per runtime (state must say created, then running; nothing
# may be left), so that hyperfine does not abort half-way on a runtime that cannot do it.
for rt in "${runtimes[@]}"; do
  rt_argv "$rt"
  id=$(cycle_id "$rt")
  in_ns "$rt" "$tmp/lc-$rt/created.sh" || { cat "$tmp/lc-$rt/stderr.txt" >&2; die "preflight: $rt create failed"; }
  st=$(in_ns "$rt" "${rt_cmd[@]}" state "$id" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
  [[ $st == created ]] || die "preflight: $rt state after create is '$st', not created"
  in_ns "$rt" "${rt_cmd[@]}" start "$id" || die "preflight: $rt start failed"
  st=$(in_ns "$rt" "${rt_cmd[@]}" state "$id" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).status))')
  [[ $st == running ]] || die "preflight: $rt state after start is '$st', not running"
  in_ns "$rt" "${rt_cmd[@]}" delete -f "$id" || die "preflight: $rt delete -f failed"
  left=$(in_ns "$rt" "${rt_cmd[@]}" list -q)
  [[ -z $left ]] || die "preflight: $rt still lists $left after delete -f"
done
[[ -z $(our_cgroups) ]] || die "preflight left cgroups: $(our_cgroups | tr '\n' ' ')"

# Cores busy over one idle second (nothing of ours running): the load others put on the host.
idle_load() {
  local j0 j1
  j0=$(cpu_jiffies); sleep 1; j1=$(cpu_jiffies)
  awk -v j="$((j1 - j0))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", j / hz }'
}

mkdir -p "$results_dir"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
out_json="$results_dir/lifecycle-$stamp.json"
par_out="$tmp/parallel.txt"
: >"$par_out"

# A `make build` by someone else while we measure swaps dist/ under tsrun's feet (a command that
# loads a chunk the new build removed fails with "Cannot find module"): note it if it happens.
build_mark() { stat -c %Y "$repo/dist/tsrun.js" "$repo/dist/tsrun.blob" 2>/dev/null | tr '\n' ' '; }
build_before=$(build_mark)

load_before=$(idle_load)
loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
note "other processes use $load_before of $(nproc) cores before the run (load average $loadavg_before)"
cpu_mark

# 1. hyperfine, one invocation per runtime (crun's inside its mount namespace).
for rt in "${runtimes[@]}"; do
  rt_argv "$rt"
  id=$(cycle_id "$rt")
  q="${rt_cmd[*]}"
  d="$tmp/lc-$rt"
  note "hyperfine: $rt create / start / delete -f / cycle ($runs runs, $warmup warm-up)"
  in_ns "$rt" hyperfine --warmup "$warmup" --runs "$runs" --shell=none --style basic \
    --export-json "$d/hyperfine.json" \
    --prepare "$d/reset.sh" --command-name "$rt create" "$q create --bundle $d/cycle $id" \
    --prepare "$d/created.sh" --command-name "$rt start" "$q start $id" \
    --prepare "$d/running.sh" --command-name "$rt delete -f" "$q delete -f $id" \
    --prepare "$d/reset.sh" --command-name "$rt cycle" "$d/cycle.sh" \
    </dev/null >&2
  in_ns "$rt" "$d/reset.sh"
done

# 2. The parallel phases, one runtime after the other.
for rt in "${runtimes[@]}"; do
  rt_argv "$rt"
  note "parallel: $rt, $rounds round(s) of $par × run -d, delete -f one by one, $par × run -d, $par × delete -f at once"
  in_ns "$rt" "$repo/bench/lifecycle-parallel.sh" "$rt" "$rounds" "$par" "$tmp/lc-$rt/p" "$(par_prefix "$rt")" \
    "$tmp/lc-$rt/stderr.txt" -- "${rt_cmd[@]}" | tee -a "$par_out" >&2
done

load_during=$(cpu_others)
load_after=$(idle_load)
loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)

leftovers=ok
for rt in "${runtimes[@]}"; do
  rt_argv "$rt"
  left=$(in_ns "$rt" "${rt_cmd[@]}" list -q 2>/dev/null || true)
  [[ -z $left ]] || { note "$rt left containers: $(echo "$left" | tr '\n' ' ')"; leftovers=found; }
done
check_leftovers || leftovers=found
rebuilt=0
if [[ $(build_mark) != "$build_before" ]]; then
  rebuilt=1
  note "WARNING: dist/ was rebuilt during the run (make build elsewhere): tsrun's figures mix two builds, and a command caught mid-swap may have failed"
fi
# Whatever the runtimes said on stderr is kept next to the results (the temp dir goes).
stderr_notes=""
for rt in "${runtimes[@]}"; do
  if [[ -s $tmp/lc-$rt/stderr.txt ]]; then
    cp "$tmp/lc-$rt/stderr.txt" "$results_dir/lifecycle-$stamp.$rt.stderr.txt"
    note "$rt wrote to stderr during the runs (bench/results/lifecycle-$stamp.$rt.stderr.txt), first lines:"
    head -8 "$tmp/lc-$rt/stderr.txt" >&2
    stderr_notes+="$rt ($(wc -l <"$tmp/lc-$rt/stderr.txt") lines, bench/results/lifecycle-$stamp.$rt.stderr.txt): $(grep -m2 -E 'Error|error|failed|cannot' "$tmp/lc-$rt/stderr.txt" | tr '\n' ' ')"$'\n'
  fi
done

# shellcheck disable=SC2155  # a failing version probe must not stop the report
export LC_TMP="$tmp" LC_OUT="$out_json" LC_PAR="$par_out" LC_STAMP="$stamp" LC_RUNS="$runs" \
  LC_WARMUP="$warmup" LC_ROUNDS="$rounds" LC_N="$par" LC_LEFTOVERS="$leftovers" LC_REBUILT="$rebuilt" LC_HYBRID="$unified_was_mounted" \
  LC_LOAD_BEFORE="$load_before" LC_LOAD_DURING="$load_during" LC_LOAD_AFTER="$load_after" \
  LC_LOADAVG_BEFORE="$loadavg_before" LC_LOADAVG_AFTER="$loadavg_after" LC_STDERR="$stderr_notes" \
  LC_GIT="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD -- src native-bindings 2>/dev/null || echo '+dirty')" \
  LC_TSRUN="$("$repo/bin/tsrun" --version 2>/dev/null || echo unknown)" \
  LC_NODE="$(node --version)" \
  LC_RUNC="$(runc --version | head -1 | awk '{print $3}')" \
  LC_CRUN="$(crun --version | head -1 | awk '{print $3}')" \
  LC_HYPERFINE="$(hyperfine --version | awk '{print $2}')" \
  LC_NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-}" \
  LC_KERNEL="$(uname -r)" LC_CPUS="$(nproc)" \
  LC_CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
node "$repo/bench/lifecycle-report.mjs"
echo "results: ${out_json#"$repo"/}" >&2
[[ $leftovers == ok ]] || die "the runs left state behind (see above); clean-up removed it"
