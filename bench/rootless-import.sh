#!/bin/bash
# `image import` as a normal user, timed: the sample's two layers (root's files only: nothing to
# shift) and a layer of N files owned by uid 1000 (every one chowned by tsrun-init in the user's
# namespace). A throwaway user with /etc/subuid ranges (useradd), removed at the end; each run
# imports into an empty store. Prints the median of BENCH_RUNS runs (default 10) for each.
#
#   bench/rootless-import.sh                 # this checkout's bin/tsrun
#   TSRUN=/work/main/bin/tsrun bench/rootless-import.sh   # another build, for a before/after
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tsrun=${TSRUN:-$repo/bin/tsrun}
runs=${BENCH_RUNS:-10}
files=${BENCH_FILES:-2000}
[ "$(id -u)" = 0 ] || { echo "rootless-import.sh: run as root (it makes a throwaway user)" >&2; exit 1; }
[ -f "$repo/rootfs-samples/build/busybox-layers/index.json" ] || { echo "rootless-import.sh: run make samples" >&2; exit 1; }
user=tsrlbench$$
useradd -m -s /bin/sh "$user"
home=$(getent passwd "$user" | cut -d: -f6)
work=$(mktemp -d /tmp/tsrun-rlbench.XXXXXX)
trap 'pkill -KILL -u "$user" 2>/dev/null || true; userdel -r -f "$user" 2>/dev/null || true; rm -rf "$work"' EXIT
chmod 0755 "$work"
cp -r "$repo/rootfs-samples/build/busybox-layers" "$work/sample"
# A layer of $files files owned by 1000:1000 in a directory of theirs.
mkdir -p "$work/tree/srv/app"
for i in $(seq 1 "$files"); do echo "$i" > "$work/tree/srv/app/f$i"; done
tar --numeric-owner --owner=1000 --group=1000 -C "$work/tree" -cf "$work/owned.tar" srv
d=$(sha256sum "$work/owned.tar" | cut -d' ' -f1); s=$(stat -c %s "$work/owned.tar")
mkdir -p "$work/owned/blobs/sha256"; cp "$work/owned.tar" "$work/owned/blobs/sha256/$d"
cfg="{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$d\"]}}"
c=$(printf %s "$cfg" | sha256sum | cut -d' ' -f1); printf %s "$cfg" > "$work/owned/blobs/sha256/$c"
man="{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$c\",\"size\":${#cfg}},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$d\",\"size\":$s}]}"
m=$(printf %s "$man" | sha256sum | cut -d' ' -f1); printf %s "$man" > "$work/owned/blobs/sha256/$m"
echo '{"imageLayoutVersion":"1.0.0"}' > "$work/owned/oci-layout"
echo "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$m\",\"size\":${#man},\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}" > "$work/owned/index.json"
chown -R "$user:$user" "$work"
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups --reset-env env HOME="$home" "$@"; }
for image in sample owned; do
  times=()
  for _ in $(seq 1 "$runs"); do
    as_user "$tsrun" image prune >/dev/null 2>&1 || true
    as_user rm -rf "$home/.local/share/tsrun" 2>/dev/null || as_user "$tsrun" image prune >/dev/null
    t0=$(date +%s%N)
    as_user "$tsrun" image import "$work/$image" >/dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
    for i in $(as_user "$tsrun" image ls 2>/dev/null | awk 'NR>1 {print $1}'); do as_user "$tsrun" image rm "$i" >/dev/null 2>&1 || true; done
    as_user "$tsrun" image prune >/dev/null 2>&1 || true
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
  echo "$image: median ${median} ms over $runs runs (${times[*]})"
done
