#!/usr/bin/env bash
# `make bench-network`: what a container network costs, in a network namespace this script makes (the
# bridges, veths and firewall rules go there, never into the machine's own namespace).
#
#  1. `run` of the sample image (busybox-layers, its command `true`) with --network none and with
#     --network bridge (CNI: bridge + host-local, portmap, firewall), for tsrun and for podman 4
#     (CNI backend, same three plugins, tsrun as its OCI runtime: podman's own cost plus the same
#     runtime), in one hyperfine run. bridge − none is the cost of CNI for each.
#  2. The library's forwardPort against CNI's portmap to one busybox httpd (bench/forward-port.ts):
#     latency of a small GET (a new connection each) and throughput of a 64 MiB GET, with the bridge
#     address itself as the floor.
#
#   RUNS=N (default 20), WARMUP=N (default 2), REQUESTS=N small GETs per path (default 200)
#
# Writes bench/results/network-<UTC date and time>.json and prints a markdown summary for the README.
# Leaves nothing behind: every container, network, lease directory and the namespace go at exit.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results_dir="$repo/bench/results"
archive="$repo/rootfs-samples/build/busybox-layers.docker.tar"
sample="$repo/rootfs-samples/build/busybox"
tag="$$"
runs=${RUNS:-20}
warmup=${WARMUP:-2}
requests=${REQUESTS:-200}
tsnet="nbt$tag"            # tsrun's network (its lease directory is /var/lib/cni/networks/$tsnet)
pmnet="nbp$tag"            # podman's
httpd_id="nb-httpd-$tag"

die() { echo "${0##*/}: $*" >&2; exit 1; }
note() { echo "${0##*/}: $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "must run as root"
for c in hyperfine podman conmon curl nsenter unshare node jq; do command -v "$c" >/dev/null || die "missing: $c (make deb-deps installs it)"; done
[[ -x /usr/lib/cni/bridge ]] || die "the CNI plugins are missing (make deb-deps installs containernetworking-plugins)"
[[ -f $archive && -f $repo/bin/tsrun ]] || make -C "$repo" --no-print-directory build samples >&2

tmp=$(mktemp -d /tmp/tsrun-netbench.XXXXXX)
chmod 755 "$tmp"
holder=""
# The play host: a network namespace held by a sleeping process (it dies with it: no mount to undo).
unshare --net sleep 36000 &
holder=$!
netns=/proc/$holder/ns/net
for _ in $(seq 100); do [[ $(readlink "$netns" 2>/dev/null) != "$(readlink /proc/self/ns/net)" ]] && break; sleep 0.02; done
[[ $(readlink "$netns") != "$(readlink /proc/self/ns/net)" ]] || die "the bench's network namespace was not made"
in_ns() { nsenter --net="$netns" -- "$@"; }
in_ns ip link set lo up

export TSRUN_NETWORK_DIR=$tmp/net.d NETCONFPATH=$tmp/no-system-networks
tsrun=("$repo/bin/tsrun" --root "$tmp/state")
podman_flags=(--root "$tmp/podman/root" --runroot "$tmp/podman/run" --tmpdir "$tmp/podman/tmp" --network-config-dir "$tmp/podman/net"
  --runtime "$repo/bin/tsrun" --cgroup-manager cgroupfs --events-backend file)
# As test/integration/podman: conmon out of the v1 hierarchies, no pids limit, rlimits this sandbox allows.
podman_run=(run --rm --cgroups no-conmon --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
export CONTAINERS_CONF=$tmp/containers.conf
printf '[containers]\npids_limit = 0\n' > "$CONTAINERS_CONF"

cleanup() {
  local rc=$?
  set +e
  "${tsrun[@]}" delete --force "$httpd_id" >/dev/null 2>&1 && true
  if [[ -n $holder ]]; then
    in_ns "${tsrun[@]}" delete --force "$httpd_id" >/dev/null 2>&1
    for id in $(ls "$tmp/state" 2>/dev/null); do in_ns "${tsrun[@]}" delete --force "$id" >/dev/null 2>&1; done
    in_ns podman "${podman_flags[@]}" rm -af >/dev/null 2>&1
    in_ns "${tsrun[@]}" network rm "$tsnet" >/dev/null 2>&1
    kill -9 "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
  fi
  podman "${podman_flags[@]}" rmi -af >/dev/null 2>&1
  rm -rf "/var/lib/cni/networks/$tsnet" "/var/lib/cni/networks/$pmnet"
  if grep -q " $tmp" /proc/self/mountinfo; then
    note "mounts under $tmp are left:"; grep " $tmp" /proc/self/mountinfo >&2
  else
    rm -rf --one-file-system "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# tsrun's network and podman's: the same plugins, subnets of their own.
in_ns "${tsrun[@]}" network create "$tsnet" --subnet 10.231.0.0/24 >/dev/null
mkdir -p "$tmp/podman/net"
jq --arg n "$pmnet" '.name = $n | .plugins[0].bridge = "cni-nbp" | .plugins[0].ipam.ranges = [[{subnet: "10.232.0.0/24", gateway: "10.232.0.1"}]] | .cniVersion = "0.4.0"' \
  "$TSRUN_NETWORK_DIR/$tsnet.conflist" > "$tmp/podman/net/$pmnet.conflist"
# The image: in tsrun's store, and in podman's.
in_ns "${tsrun[@]}" run --store "$tmp/store" --network none --image "$archive" "nb-pre-$tag" -- true
image=$(podman "${podman_flags[@]}" load -q -i "$archive" | sed -n 's/^Loaded image[^:]*: *//p' | head -n 1)
[[ -n $image ]] || die "podman load of $archive gave no image name"

ns="nsenter --net=$netns --"
ts="$ns ${tsrun[*]} run --store $tmp/store --image busybox-layers"
pm="$ns podman ${podman_flags[*]} ${podman_run[*]} --entrypoint /bin/sh"
names=("tsrun --network none" "tsrun --network bridge" "podman --network none" "podman --network bridge")
cmds=("$ts --network none nb-none-$tag -- true" "$ts --network bridge:$tsnet nb-bridge-$tag -- true"
  "$pm --network none $image -c true" "$pm --network $pmnet $image -c true")
for i in "${!cmds[@]}"; do
  out=$(bash -c "${cmds[$i]}" 2>&1) || die "${names[$i]} failed: $out"
done
# Both bridges really attach: the container has its address on eth0.
addr=$(bash -c "$ts --network bridge:$tsnet nb-check-$tag -- 'ip -4 -o addr show eth0'" 2>&1) || die "tsrun on the bridge: $addr"
[[ $addr == *10.231.0.* ]] || die "tsrun's container got no address on the bridge: $addr"
addr=$(bash -c "$pm --network $pmnet $image -c 'ip -4 -o addr show eth0'" 2>&1) || die "podman on the bridge: $addr"
[[ $addr == *10.232.0.* ]] || die "podman's container got no address on the bridge: $addr"

mkdir -p "$results_dir"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$results_dir/network-$stamp.json"
hf_args=(--runs "$runs" --warmup "$warmup" --export-json "$tmp/hf.json" --style basic)
for i in "${!cmds[@]}"; do hf_args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine "${hf_args[@]}" >&2

# forwardPort against portmap, to one httpd.
cp -a "$sample" "$tmp/httpd"
mkdir -p "$tmp/httpd/rootfs/www"
head -c 100 /dev/zero | tr '\0' x > "$tmp/httpd/rootfs/www/small"
head -c $((64 << 20)) /dev/zero > "$tmp/httpd/rootfs/www/big"
node -e 'f=process.argv[1];c=require(f);c.process.args=["httpd","-f","-p","8080","-h","/www"];c.process.terminal=false;require("fs").writeFileSync(f,JSON.stringify(c))' "$tmp/httpd/config.json"
in_ns "${tsrun[@]}" run -d --network "bridge:$tsnet" -p 18090:8080 --bundle "$tmp/httpd" "$httpd_id" </dev/null >/dev/null 2>&1
for _ in $(seq 100); do in_ns curl -sf -o /dev/null http://127.0.0.1:18090/small && break; sleep 0.05; done
"$repo/node_modules/.bin/esbuild" --bundle --platform=node --format=esm --log-level=warning \
  --external:koffi --outfile="$tmp/forward-port.mjs" "$repo/bench/forward-port.ts"
# koffi is resolved from the package's node_modules; the shim and tsrun-init from the package root.
ln -s "$repo/node_modules" "$tmp/node_modules"
fwd=$(TSRUN_PACKAGE_ROOT=$repo node "$tmp/forward-port.mjs" "$tmp/state" "$httpd_id" "$netns" 18090 "$requests" 5)

jq -n --slurpfile hf "$tmp/hf.json" --argjson fwd "$fwd" --arg stamp "$stamp" --arg kernel "$(uname -r)" --arg podman "$(podman --version)" \
  '{stamp: $stamp, kernel: $kernel, podman: $podman, run: $hf[0].results, forward: $fwd}' > "$out"

med() { jq -r --arg n "$1" '.run[] | select(.command == $n) | (.median * 1000)' "$out"; }
tn=$(med "tsrun --network none"); tb=$(med "tsrun --network bridge"); pn=$(med "podman --network none"); pb=$(med "podman --network bridge")
echo
echo "### Networking (make bench-network, $stamp, $runs runs)"
echo
echo '| run of the sample image, `true` | median ms | CNI cost (bridge − none) |'
echo '|---|---|---|'
awk -v a="$tn" -v b="$tb" 'BEGIN { printf "| tsrun --network none | %.1f | |\n| tsrun --network bridge | %.1f | %.1f ms |\n", a, b, b - a }'
awk -v a="$pn" -v b="$pb" 'BEGIN { printf "| podman --network none | %.1f | |\n| podman --network bridge | %.1f | %.1f ms |\n", a, b, b - a }'
echo
echo "| to the same httpd | median latency of a small GET (ms, new connection each, n=$requests) | throughput of a 64 MiB GET (MiB/s, median of 5) |"
echo '|---|---|---|'
echo "$fwd" | jq -r '.rows[] | "| \(.path) | \(.latencyMs * 100 | round / 100) | \(.throughputMiBs | round) |"'
echo
note "raw results: $out"
