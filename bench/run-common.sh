# Shared by bench/run-bench.sh and bench/run-profile.sh (sourced, not run): a private copy of the
# sample busybox bundle that runs /bin/true, one config per runtime, and a clean-up that removes
# only what this process created (containers, cgroups named tsrun-bench-*-<pid>, the temp dir).
# shellcheck shell=bash

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results_dir="$repo/bench/results"
sample="$repo/rootfs-samples/build/busybox"
tag="$$"                       # makes ids and cgroup names unique to this invocation
tsrun_id="bench-tsrun-$tag"
runc_id="bench-runc-$tag"
crun_id="bench-crun-$tag"
tmp=""
cgroups_before=""

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (containers, cgroups, mounts)"; }

need_cmds() {
  local c missing=()
  for c in "$@"; do command -v "$c" >/dev/null || missing+=("$c"); done
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (make deb-deps installs them)"
}

# The CLI bundle, the shim and the sample must exist; build them when missing.
need_build() {
  if [[ ! -f $repo/dist/tsrun.js || ! -f $repo/native-bindings/build/libtsrun-shim.so || ! -f $sample/config.json ]]; then
    note "building tsrun and the sample bundle (make build samples)"
    make -C "$repo" --no-print-directory build samples >&2
  fi
}

# /sys/fs/cgroup is a tmpfs of v1 hierarchies with cgroup2 at /sys/fs/cgroup/unified: crun refuses
# to run there unless the unified mount is hidden in a private mount namespace.
host_is_hybrid() {
  [[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == tmpfs ]] &&
    [[ $(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]
}

# Every cgroup directory this invocation may have created (v1 hierarchies and the v2 one).
our_cgroups() {
  find /sys/fs/cgroup -mindepth 1 -maxdepth 2 -type d -name "tsrun-bench-*-$tag" 2>/dev/null | sort
}

# bundle layout under $tmp:
#   rootfs/            copy of the sample rootfs
#   tsrun/config.json  process.args ["/bin/true"], terminal false, root.path -> ../rootfs
#   runc/config.json   same + linux.cgroupsPath /tsrun-bench-runc-<pid>
#   crun/config.json   same + linux.cgroupsPath /tsrun-bench-crun-<pid>
# tsrun's copy gets an absolute cgroupsPath as well (ignored until run creates cgroups), so that
# it never nests under the caller's cgroup either once it does.
make_bundles() {
  tmp=$(mktemp -d /tmp/tsrun-bench.XXXXXX)
  cgroups_before=$(our_cgroups)
  [[ -z $cgroups_before ]] || die "cgroups named for this pid already exist: $cgroups_before"
  cp -a "$sample/rootfs" "$tmp/rootfs"
  mkdir "$tmp/tsrun" "$tmp/runc" "$tmp/crun"
  SAMPLE_CONFIG="$sample/config.json" TMPDIR_B="$tmp" TAG="$tag" node --input-type=module -e '
    import { readFileSync, writeFileSync } from "node:fs";
    const base = JSON.parse(readFileSync(process.env.SAMPLE_CONFIG, "utf8"));
    for (const rt of ["tsrun", "runc", "crun"]) {
      const c = structuredClone(base);
      c.process.args = ["/bin/true"];
      c.process.terminal = false;
      c.root = { ...c.root, path: process.env.TMPDIR_B + "/rootfs" };
      c.linux = { ...c.linux, cgroupsPath: `/tsrun-bench-${rt}-${process.env.TAG}` };
      writeFileSync(`${process.env.TMPDIR_B}/${rt}/config.json`, JSON.stringify(c, null, 2) + "\n");
    }'
}

# Removes what this invocation created and reports anything it could not remove. Safe to call twice.
cleanup() {
  local rc=$? id d left=0
  set +e
  if command -v runc >/dev/null; then
    for id in $(runc list -q 2>/dev/null | grep -x "$runc_id"); do
      note "leftover runc container $id: deleting"; runc delete -f "$id"; left=1
    done
  fi
  if command -v crun >/dev/null; then
    for id in $(crun list -q 2>/dev/null | grep -x "$crun_id"); do
      note "leftover crun container $id: deleting"; crun delete -f "$id"; left=1
    done
  fi
  if [[ -e /run/tsrun/$tsrun_id ]]; then
    note "leftover tsrun state /run/tsrun/$tsrun_id (tsrun run should leave none): removing"
    rm -rf "/run/tsrun/${tsrun_id:?}"; left=1
  fi
  # Only our own names (…-<pid>); rmdir only, deepest first, never rm -r in a cgroup tree.
  for d in $(our_cgroups); do
    note "leftover cgroup $d: rmdir"; find "$d" -depth -type d -exec rmdir {} \; ; left=1
    [[ -d $d ]] && note "could not remove $d (processes still in it?)"
  done
  if [[ -n $tmp && -d $tmp ]]; then
    if grep -q " $tmp" /proc/self/mountinfo; then
      note "mounts under $tmp are left on the host:"; grep " $tmp" /proc/self/mountinfo >&2; left=1
    else
      rm -rf "${tmp:?}"
    fi
  fi
  tmp=""
  ((left == 0)) || note "clean-up had to remove leftovers (see above)"
  return "$rc"
}

# After the runs: nothing of ours may be left. Prints what is and returns 1 if so.
check_leftovers() {
  local bad=0
  if runc list -q 2>/dev/null | grep -qx "$runc_id"; then note "runc left container $runc_id"; bad=1; fi
  if crun list -q 2>/dev/null | grep -qx "$crun_id"; then note "crun left container $crun_id"; bad=1; fi
  if [[ -e /run/tsrun/$tsrun_id ]]; then note "tsrun left state /run/tsrun/$tsrun_id"; bad=1; fi
  if [[ -n $(our_cgroups) ]]; then note "cgroups left: $(our_cgroups | tr '\n' ' ')"; bad=1; fi
  if grep -q " $tmp" /proc/self/mountinfo; then note "mounts left under $tmp"; bad=1; fi
  if [[ ${unified_was_mounted:-0} == 1 ]] && ! host_is_hybrid; then
    note "/sys/fs/cgroup/unified is no longer mounted on the host!"; bad=1
  fi
  return $bad
}

# The commands, as hyperfine runs them (--shell=none: split like a shell would, no shell started).
tsrun_cmd() { echo "$repo/bin/tsrun run --bundle $tmp/tsrun $tsrun_id"; }
runc_cmd() { echo "runc run --bundle $tmp/runc $runc_id"; }
crun_cmd() {
  if host_is_hybrid; then
    # The umount happens only inside the private mount namespace made by unshare.
    echo "unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec crun run --bundle $tmp/crun $crun_id'"
  else
    echo "crun run --bundle $tmp/crun $crun_id"
  fi
}

# CPU used by other processes while we measure: host busy time (/proc/stat) minus the CPU time of
# this shell's children (waited for). cpu_mark before, cpu_others after: prints cores used.
cpu_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }  # user nice system irq softirq steal
# cutime + cstime of this script's shell ($$ even in subshells), fields 16-17 of /proc/PID/stat.
children_cpu_s() { sed 's/.*) //' "/proc/$$/stat" | awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }'; }
cpu_mark() { cpu_j0=$(cpu_jiffies); cpu_c0=$(children_cpu_s); cpu_t0=$EPOCHREALTIME; }
cpu_others() {
  local j1 c1 t1
  j1=$(cpu_jiffies); c1=$(children_cpu_s); t1=$EPOCHREALTIME
  awk -v j="$((j1 - cpu_j0))" -v hz="$(getconf CLK_TCK)" -v c="$c1" -v c0="$cpu_c0" -v t="$t1" -v t0="$cpu_t0" \
    'BEGIN { o = (j / hz - (c - c0)) / (t - t0); if (o < 0) o = 0; printf "%.2f\n", o }'
}
