#!/usr/bin/env bash
# `make bench-usermode-net`: why slirp4netns is tsrun's user-mode network, and what it costs a run.
#  1. Start cost of the two Debian helpers, as a normal user, to "ready" against a user+net namespace:
#     slirp4netns --configure --mtu=65520 --disable-host-loopback (until its --ready-fd fires) and
#     pasta --config-net (until it returns: it forks to the background once set up). RUNS each.
#  2. `tsrun run` of /bin/true as that user, --network none vs --network slirp4netns (hyperfine).
#
#   RUNS=N   runs of each (default 15)
#
# Everything runs inside a network and mount namespace made here (lo up; a veth pair with 10.231.0.1
# on one end, since pasta copies the host's routable interface; /dev/net/tun a 0666 node of its own
# bound over the machine's): nothing of the machine's network is touched. The user is made for the
# run (useradd) and removed at exit. Writes bench/results/usermode-net-<UTC stamp>.json.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${RUNS:-15}
die() { echo "usermode-net-bench: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root (to make the user and the namespace)"
for c in hyperfine setpriv useradd slirp4netns pasta unshare nsenter; do command -v "$c" >/dev/null || die "missing $c (make deps)"; done
[[ -x $repo/bin/tsrun && -d $repo/rootfs-samples/build/busybox/rootfs ]] || die "run make build samples"

user="tsnb$$"
tmp=$(mktemp -d /tmp/tsrun-usermode-bench.XXXXXX)
holder=""
cleanup() {
  pkill -KILL -u "$user" 2>/dev/null || true
  userdel -r -f "$user" 2>/dev/null || true
  [[ -n $holder ]] && kill -KILL "$holder" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
useradd -m -s /bin/sh "$user"
chmod 0755 "$tmp"
mkdir -p "$tmp/bundle" "$tmp/xdg"
cp -a "$repo/rootfs-samples/build/busybox/rootfs" "$tmp/bundle/rootfs"
chown -R "$user:" "$tmp/bundle" "$tmp/xdg"
chmod 0700 "$tmp/xdg"
mknod "$tmp/tun" c 10 200 && chmod 0666 "$tmp/tun"
unshare --net --mount --propagation private sleep 3600 &
holder=$!
sleep 0.2
[[ $(readlink /proc/$holder/ns/net) != $(readlink /proc/self/ns/net) ]] || die "the namespace is the host's"
in_ns=(nsenter -t "$holder" --net --mount --)
"${in_ns[@]}" mount --bind "$tmp/tun" /dev/net/tun
"${in_ns[@]}" ip link set lo up
"${in_ns[@]}" ip link add tsnb0 type veth peer name tsnb1
"${in_ns[@]}" ip addr add 10.231.0.1/24 dev tsnb0
"${in_ns[@]}" ip link set tsnb0 up
"${in_ns[@]}" ip link set tsnb1 up
"${in_ns[@]}" ip route add default via 10.231.0.254 dev tsnb0
as_user=("${in_ns[@]}" setpriv "--reuid=$user" "--regid=$user" --init-groups --reset-env env "XDG_RUNTIME_DIR=$tmp/xdg")

# 1. The helpers alone.
cat > "$tmp/helpers.sh" <<'EOF'
#!/bin/bash
# As the user: RUNS times each helper against a fresh user+net namespace; prints "NAME MICROSECONDS".
set -u
now() { date +%s%N; }
for _ in $(seq 1 "$1"); do
  unshare --user --map-root-user --net sleep 100 & t=$!
  until [[ $(readlink /proc/$t/ns/net 2>/dev/null) != $(readlink /proc/self/ns/net) ]]; do sleep 0.005; done
  rm -f "$2/ready"; s=$(now)
  slirp4netns --configure --mtu=65520 --disable-host-loopback --ready-fd=5 "$t" tap0 5>"$2/ready" >/dev/null 2>&1 & p=$!
  while [[ ! -s $2/ready ]]; do :; done
  echo "slirp4netns $(( ($(now) - s) / 1000 ))"
  kill "$p"; wait "$p" 2>/dev/null
  s=$(now)
  if pasta --config-net --quiet -4 -P "$2/pasta.pid" "$t" >/dev/null 2>&1; then echo "pasta $(( ($(now) - s) / 1000 ))"; kill "$(cat "$2/pasta.pid")"; else echo "pasta failed"; fi
  kill "$t"; wait "$t" 2>/dev/null
done
exit 0
EOF
chmod 0755 "$tmp/helpers.sh"
echo "helpers: $runs runs each, as $user, in a namespace of its own" >&2
helper_out=$("${as_user[@]}" "$tmp/helpers.sh" "$runs" "$tmp/xdg")

# 2. tsrun run of /bin/true, --network none vs slirp4netns.
"${as_user[@]}" "$repo/bin/tsrun" spec --rootless --bundle "$tmp/bundle"
sed -i -e 's/"terminal": true/"terminal": false/' -e 's/"sh"$/"\/bin\/true"/' "$tmp/bundle/config.json"
grep -q '"/bin/true"' "$tmp/bundle/config.json" || die "could not set process.args"
mkdir -p "$repo/bench/results"
raw="$repo/bench/results/usermode-net-$(date -u +%Y-%m-%dT%H%M%SZ).json"
hyperfine --warmup 2 --runs "$runs" --shell=none --style basic --export-json "$raw" \
  --command-name "tsrun run --network none (rootless)" "${as_user[*]} $repo/bin/tsrun run --network none --bundle $tmp/bundle bn" \
  --command-name "tsrun run --network slirp4netns (rootless)" "${as_user[*]} $repo/bin/tsrun run --network slirp4netns --bundle $tmp/bundle bs" >&2
node -e '
const [raw, helpers] = process.argv.slice(1);
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const by = {};
for (const l of helpers.split("\n")) { const [n, v] = l.split(" "); if (/^\d+$/.test(v ?? "")) (by[n] ??= []).push(Number(v) / 1000); }
for (const [n, xs] of Object.entries(by)) console.log(`${n.padEnd(12)} to ready: median ${med(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}, ${xs.length} runs)`);
const failed = helpers.split("\n").filter((l) => l === "pasta failed").length;
if (failed) console.log(`pasta failed ${failed} times`);
for (const x of JSON.parse(require("fs").readFileSync(raw, "utf8")).results) console.log(`${x.command.padEnd(42)} median ${(x.median * 1000).toFixed(1)} ms (min ${(x.min * 1000).toFixed(1)}, max ${(x.max * 1000).toFixed(1)})`);
' "$raw" "$helper_out"
echo "results: $raw" >&2
