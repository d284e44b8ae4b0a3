#!/usr/bin/env bash
# `make bench-rootless`: `run` of /bin/true from one `tsrun spec --rootless` bundle, in one hyperfine
# run: tsrun as root, tsrun as a normal user, runc as that user (its rootless mode).
#
#   RUNS=N     timed runs per command (default 30); WARMUP=N warm-up runs (default 3)
#
# The user is made for the run (useradd; removed at exit with its home), as are its bundle (a copy of
# the sample rootfs it owns) and its XDG_RUNTIME_DIR. As root the bundle's user namespace maps uid 0 to
# that user, and the container gets a cgroup; as the user, on a host that delegates it none, it has
# none (see README, "Rootless"). Writes bench/results/rootless-<UTC stamp>.json (hyperfine's export).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${RUNS:-30}
warmup=${WARMUP:-3}
die() { echo "rootless-bench: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root (to make the user)"
for c in hyperfine runc setpriv useradd; do command -v "$c" >/dev/null || die "missing $c (make deps)"; done
[[ -x $repo/bin/tsrun && -d $repo/rootfs-samples/build/busybox/rootfs ]] || die "run make build samples"

user="tsrlb$$"
tmp=$(mktemp -d /tmp/tsrun-rootless-bench.XXXXXX)
cleanup() {
  pkill -KILL -u "$user" 2>/dev/null || true
  userdel -r -f "$user" 2>/dev/null || true
  "$repo/bin/tsrun" --root "$tmp/root-state" delete -f bench-root >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
useradd -m -s /bin/sh "$user"
uid=$(id -u "$user")
chmod 0755 "$tmp"
mkdir -p "$tmp/bundle" "$tmp/xdg"
cp -a "$repo/rootfs-samples/build/busybox/rootfs" "$tmp/bundle/rootfs"
chown -R "$user:" "$tmp/bundle" "$tmp/xdg"
chmod 0700 "$tmp/xdg"
as_user=(setpriv "--reuid=$user" "--regid=$user" --init-groups --reset-env env "XDG_RUNTIME_DIR=$tmp/xdg")
(cd "$tmp/bundle" && "${as_user[@]}" "$repo/bin/tsrun" spec --rootless)
# /bin/true, no terminal: the same process for every runtime.
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"$/"\/bin\/true"/' "$tmp/bundle/config.json"
grep -q '"/bin/true"' "$tmp/bundle/config.json" || die "could not set process.args in $tmp/bundle/config.json"

names=("tsrun run (root)" "tsrun run (rootless)" "runc run (rootless)")
cmds=(
  "$repo/bin/tsrun --root $tmp/root-state run --bundle $tmp/bundle bench-root"
  "${as_user[*]} $repo/bin/tsrun run --bundle $tmp/bundle bench-user"
  "${as_user[*]} runc --root $tmp/xdg/runc run --bundle $tmp/bundle bench-runc"
)
for i in "${!cmds[@]}"; do
  out=$(bash -c "exec ${cmds[$i]}" 2>&1 </dev/null) || { printf '%s\n' "$out" >&2; die "preflight: ${names[$i]} failed"; }
done

mkdir -p "$repo/bench/results"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
raw="$repo/bench/results/rootless-$stamp.json"
args=(--warmup "$warmup" --runs "$runs" --shell=none --style basic --export-json "$raw")
for i in "${!cmds[@]}"; do args+=(--command-name "${names[$i]}" "${cmds[$i]}"); done
echo "hyperfine: $runs runs, $warmup warm-up; user $user (uid $uid), bundle $tmp/bundle (spec --rootless, /bin/true)" >&2
hyperfine "${args[@]}" >&2
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
const ms = (s) => (s * 1000).toFixed(1);
for (const x of r) console.log(`${x.command.padEnd(22)} median ${ms(x.median)} ms  (min ${ms(x.min)}, max ${ms(x.max)})`);
const m = Object.fromEntries(r.map((x) => [x.command, x.median]));
console.log(`rootless/root ${(m["tsrun run (rootless)"] / m["tsrun run (root)"]).toFixed(2)}x, tsrun/runc rootless ${(m["tsrun run (rootless)"] / m["runc run (rootless)"]).toFixed(2)}x`);
' "$raw"
echo "results: $raw" >&2
