#!/bin/bash
# Import of one large layer (a tar of parts of the host's /usr: many small files) timed with hyperfine
# in one run against `umoci unpack` of the same OCI layout and GNU `tar -x` of the same tar.
# Prints each run, mean and median times, and the ratios tsrun/tar and tsrun/umoci.
#
#   bench/image-import.sh                  # on disk, under /var/tmp
#   BENCH_TMPFS=1 bench/image-import.sh    # everything on a tmpfs (private mount namespace): CPU cost only
#   BENCH_PATHS="usr/share" BENCH_RUNS=3 bench/image-import.sh
#   BENCH_PREFAULT=0 bench/image-import.sh   # no memory touched before each run (below)
#
# BENCH_PREFAULT (MiB; default 4000 when 12 GiB are available, else 0): on a VM whose balloon driver
# reports free memory to the host (free page reporting, as on the dev machine), memory freed by an
# earlier run (umoci's 14 s of allocations, a `rm -rf` of an output) is handed back to the host,
# and whichever command runs next faults it in again from the host, page by page: its system time
# then swings 2-3x from run to run. On the dev machine that hit the command timed after umoci
# (tsrun: 1.04-2.27 s on tmpfs, against 1.01-1.09 s with the prefault or with umoci left out) and
# once tar (0.80-1.61 s). The --prepare step (not timed) writes that much fresh memory and frees it,
# so every command starts with memory the host has backed. Same for all three commands.
#
# All three get the same uncompressed tar, so none pays for gunzip; tsrun and umoci both check
# the layer's sha256 while unpacking. Needs root, hyperfine, umoci, and `make build` done.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
paths=${BENCH_PATHS:-usr/share usr/include}
runs=${BENCH_RUNS:-5}
base=${BENCH_DIR:-/var/tmp}
avail_mib=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
prefault=${BENCH_PREFAULT:-$([ "$avail_mib" -ge 12288 ] && echo 4000 || echo 0)}

for tool in hyperfine umoci tar node; do
  command -v "$tool" >/dev/null || { echo "image-import.sh: $tool is missing (make deps)" >&2; exit 1; }
done
[ -f "$repo/dist/tsrun.js" ] || { echo "image-import.sh: run 'make build' first" >&2; exit 1; }
# The installed launcher (V8 start-up snapshot) when there is one, else the plain bundle.
tsrun=$repo/bin/tsrun
[ -x "$tsrun" ] || tsrun=$repo/bin/tsrun.js

if [ "${BENCH_TMPFS:-}" = 1 ] && [ -z "${BENCH_IN_NS:-}" ]; then
  # Re-run inside a private mount namespace with a tmpfs on the work dir: the mount dies with it.
  work=$(mktemp -d "$base/tsrun-bench-image.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  BENCH_IN_NS=1 BENCH_DIR="$work" unshare -m --propagation private \
    sh -c 'mount -t tmpfs -o size=8g tmpfs "$1" && exec "$2"' sh "$work" "$0"
  exit
fi

work=$(mktemp -d "$base/tsrun-bench-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== building the layer: tar of /$paths"
# shellcheck disable=SC2086
tar --numeric-owner -cf layer.tar -C / $paths 2>/dev/null || [ -s layer.tar ]
entries=$(tar -tf layer.tar | wc -l)
size=$(stat -c %s layer.tar)
echo "   $((size / 1048576)) MiB, $entries entries"

# An OCI layout whose only layer is that tar, uncompressed (so blob digest = diff-id).
mkdir -p layout/blobs/sha256
hex=$(sha256sum layer.tar | cut -d' ' -f1)
ln layer.tar "layout/blobs/sha256/$hex"
node - "$work/layout" "$hex" "$size" <<'EOF'
const fs = require('node:fs');
const crypto = require('node:crypto');
const [dir, hex, size] = process.argv.slice(2);
const put = (obj) => {
  const b = Buffer.from(JSON.stringify(obj));
  const h = crypto.createHash('sha256').update(b).digest('hex');
  fs.writeFileSync(`${dir}/blobs/sha256/${h}`, b);
  return { digest: `sha256:${h}`, size: b.length };
};
const config = put({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${hex}`] } });
const manifest = put({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${hex}`, size: Number(size) }] });
fs.writeFileSync(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
fs.writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [
  { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
EOF

touch=true
[ "$prefault" -gt 0 ] && touch="node -e 'Buffer.alloc($prefault * 2 ** 20, 1)'"
echo "== hyperfine ($runs runs each; caches dropped of dirty data by sync before each run; prefault $prefault MiB)"
hyperfine --runs "$runs" --warmup 1 --export-json results.json --style basic \
  --prepare "rm -rf $work/out-tar && mkdir $work/out-tar && sync && $touch" \
  -n 'tar -x' "tar -xf $work/layer.tar -C $work/out-tar" \
  --prepare "rm -rf $work/out-umoci && sync && $touch" \
  -n 'umoci unpack' "umoci unpack --image $work/layout:bench $work/out-umoci" \
  --prepare "rm -rf $work/store && sync && $touch" \
  -n 'tsrun image import' "$tsrun image import --quiet --store $work/store $work/layout:bench"

node - "$work/results.json" <<'EOF'
const r = JSON.parse(require('node:fs').readFileSync(process.argv[2], 'utf8')).results;
for (const x of r) console.log(`${x.command}: runs ${x.times.map((t) => t.toFixed(2)).join(' ')} s`);
for (const stat of ['mean', 'median']) {
  const get = (name) => r.find((x) => x.command === name)[stat];
  const [tar, umoci, tsrun] = [get('tar -x'), get('umoci unpack'), get('tsrun image import')];
  console.log(`${stat}: tar -x ${tar.toFixed(2)} s, umoci unpack ${umoci.toFixed(2)} s, tsrun image import ${tsrun.toFixed(2)} s`);
  console.log(`  tsrun / tar   = ${(tsrun / tar).toFixed(2)}x   (goal: at most 1.5x)`);
  console.log(`  tsrun / umoci = ${(tsrun / umoci).toFixed(2)}x   (goal: below 1x)`);
}
EOF
