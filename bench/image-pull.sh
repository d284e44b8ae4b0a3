#!/bin/bash
# Pull of a multi-layer image from a local registry (Debian's docker-registry on 127.0.0.1, plain
# HTTP), timed with hyperfine in one run, each from an empty store:
#   tsrun image pull                  straight into tsrun's layer store;
#   skopeo copy + tsrun image import  what one did before `image pull` existed: the blobs to an OCI
#                                     layout on disk, then unpacked into the store;
#   podman pull                       podman 4's containers/storage (overlay driver), with a
#                                     throwaway --root/--runroot and a registries.conf that marks
#                                     the local registry insecure.
# Prints every run, means, medians and the ratios tsrun / the others (goal: below 1x for both).
#
#   bench/image-pull.sh                                     # layers from /usr/{include,lib/gcc,bin,share/perl}
#   BENCH_PATHS="usr/include usr/bin" BENCH_RUNS=3 bench/image-pull.sh
#   BENCH_TMPFS=1 bench/image-pull.sh                       # stores on a tmpfs (private mount ns): CPU only
#   BENCH_PREFAULT=0 bench/image-pull.sh                    # no memory touched before each run
#
# BENCH_PREFAULT (MiB; default 4000 when 12 GiB are available, else 0): as in image-import.sh, every
# run starts after writing and freeing that much memory, so that no command pays for faulting back
# memory this VM's balloon driver handed to the host after the previous command (see
# bench/README-image.md). The same for all three.
#
# Each path becomes one gzip layer (gzip -6: what registries hold; the decompression costs every
# tool the same). The registry listens on 127.0.0.1 only and is stopped by its pid at the end.
# Needs root, hyperfine, skopeo, podman, docker-registry (make deps) and make build.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
paths=${BENCH_PATHS:-usr/include usr/lib/gcc usr/bin usr/share/perl}
runs=${BENCH_RUNS:-5}
base=${BENCH_DIR:-/var/tmp}
avail_mib=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
prefault=${BENCH_PREFAULT:-$([ "$avail_mib" -ge 12288 ] && echo 4000 || echo 0)}

for tool in hyperfine skopeo podman docker-registry ss gzip node; do
  command -v "$tool" >/dev/null || { echo "image-pull.sh: $tool is missing (make deps)" >&2; exit 1; }
done
[ -x "$repo/bin/tsrun" ] || { echo "image-pull.sh: run 'make build' first" >&2; exit 1; }
tsrun=$repo/bin/tsrun

if [ "${BENCH_TMPFS:-}" = 1 ] && [ -z "${BENCH_IN_NS:-}" ]; then
  work=$(mktemp -d "$base/tsrun-bench-pull.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  BENCH_IN_NS=1 BENCH_DIR="$work" unshare -m --propagation private \
    sh -c 'mount -t tmpfs -o size=12g tmpfs "$1" && exec "$2"' sh "$work" "$0"
  exit
fi

work=$(mktemp -d "$base/tsrun-bench-pull.XXXXXX")
# podman refuses a --runroot longer than 50 characters.
podman_run=$(mktemp -d /tmp/tsrun-pr.XXXXXX)
registry_pid=
cleanup() {
  # (each step may fail without ending the clean-up: set -e applies in a trap too)
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  # podman's overlay driver makes its home a private mount of its own.
  umount -R "$work/podman" 2>/dev/null || true
  umount -R "$podman_run/run" 2>/dev/null || true
  rm -rf "$work" "$podman_run"
}
trap cleanup EXIT
cd "$work"

echo "== building the image: one gzip layer each of /${paths// / \/}"
mkdir -p layout/blobs/sha256
layers=()
for p in $paths; do
  tar --numeric-owner -cf layer.tar -C / "$p" 2>/dev/null || [ -s layer.tar ]
  diff=$(sha256sum layer.tar | cut -d' ' -f1)
  gzip -6 -c layer.tar > layer.tar.gz
  blob=$(sha256sum layer.tar.gz | cut -d' ' -f1)
  mv layer.tar.gz "layout/blobs/sha256/$blob"
  layers+=("$diff:$blob:$(stat -c %s "layout/blobs/sha256/$blob"):$(stat -c %s layer.tar)")
  rm layer.tar
done
node - "$work/layout" "${layers[@]}" <<'EOF'
const fs = require('node:fs');
const crypto = require('node:crypto');
const [dir, ...layers] = process.argv.slice(2);
const ls = layers.map((l) => { const [diff, blob, size, raw] = l.split(':'); return { diff, blob, size: Number(size), raw: Number(raw) }; });
const put = (obj) => {
  const b = Buffer.from(JSON.stringify(obj));
  const h = crypto.createHash('sha256').update(b).digest('hex');
  fs.writeFileSync(`${dir}/blobs/sha256/${h}`, b);
  return { digest: `sha256:${h}`, size: b.length };
};
const config = put({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: ls.map((l) => `sha256:${l.diff}`) } });
const manifest = put({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
  layers: ls.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${l.blob}`, size: l.size })) });
fs.writeFileSync(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
fs.writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [
  { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
const mib = (n) => (n / 2 ** 20).toFixed(0);
console.log(`   ${ls.length} layers, ${mib(ls.reduce((s, l) => s + l.size, 0))} MiB compressed, ${mib(ls.reduce((s, l) => s + l.raw, 0))} MiB unpacked`);
EOF

echo "== starting docker-registry on 127.0.0.1"
mkdir registry
cat > registry/config.yml <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/storage
http:
  addr: 127.0.0.1:0
  secret: tsrun-bench
EOF
docker-registry serve registry/config.yml >registry/log 2>&1 &
registry_pid=$!
host=
for _ in $(seq 100); do
  host=$(ss -ltnpH | grep "pid=$registry_pid," | grep -o '127\.0\.0\.1:[0-9]*' | head -1) && [ -n "$host" ] && break
  sleep 0.05
done
[ -n "$host" ] || { echo "image-pull.sh: docker-registry did not start: $(cat registry/log)" >&2; exit 1; }
skopeo copy --quiet --dest-tls-verify=false oci:layout:bench "docker://$host/bench:latest"
ref=$host/bench:latest
echo "   $ref"

# podman: its own storage and run dirs, and a registries.conf allowing the local plain-HTTP registry.
cat > registries.conf <<EOF
[[registry]]
location = "$host"
insecure = true
EOF
podman=(env CONTAINERS_REGISTRIES_CONF="$work/registries.conf" podman --root "$work/podman/root" --runroot "$podman_run/run" --storage-driver overlay)
reset_podman="umount -R $work/podman $podman_run/run 2>/dev/null; rm -rf $work/podman $podman_run/run"

# BENCH_SHOW_OUTPUT=1: the commands' own output (to see why one fails).
style=(--style basic)
[ -n "${BENCH_SHOW_OUTPUT:-}" ] && style=(--show-output)
touch=true
[ "$prefault" -gt 0 ] && touch="node -e 'Buffer.alloc($prefault * 2 ** 20, 1)'"
echo "== hyperfine ($runs runs each, 1 warm-up; every run from an empty store, after sync; prefault $prefault MiB)"
hyperfine --runs "$runs" --warmup 1 --export-json results.json "${style[@]}" \
  --prepare "rm -rf $work/s-pull && sync && $touch" \
  -n 'tsrun image pull' "$tsrun image pull --quiet --store $work/s-pull $ref" \
  --prepare "rm -rf $work/s-import $work/oci && sync && $touch" \
  -n 'skopeo copy + tsrun image import' "skopeo copy --quiet --src-tls-verify=false docker://$ref oci:$work/oci:bench && $tsrun image import --quiet --store $work/s-import $work/oci:bench" \
  --prepare "$reset_podman; sync && $touch" \
  -n 'podman pull' "${podman[*]} pull --quiet $ref"

node - "$work/results.json" <<'EOF'
const r = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8')).results;
for (const x of r) console.log(`${x.command}: runs ${x.times.map((t) => t.toFixed(2)).join(' ')} s`);
for (const stat of ['mean', 'median']) {
  const get = (name) => r.find((x) => x.command === name)[stat];
  const [pull, copy, podman] = [get('tsrun image pull'), get('skopeo copy + tsrun image import'), get('podman pull')];
  console.log(`${stat}: tsrun image pull ${pull.toFixed(2)} s, skopeo copy + import ${copy.toFixed(2)} s, podman pull ${podman.toFixed(2)} s`);
  console.log(`  tsrun pull / (skopeo copy + import) = ${(pull / copy).toFixed(2)}x   (goal: below 1x)`);
  console.log(`  tsrun pull / podman pull            = ${(pull / podman).toFixed(2)}x   (goal: below 1x)`);
}
EOF
