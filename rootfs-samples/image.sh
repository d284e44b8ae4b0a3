#!/bin/bash
# Builds a two-layer sample image from Debian's busybox-static, as an OCI image layout and as a
# docker archive, to show how layers and whiteouts work:
#   layer 1 (base): busybox + applet links, /etc/passwd and /etc/group, /etc/motd, /data/{old,keep}
#                   and a few of every file kind (setuid, sticky dir, hard link, fifo, char device,
#                   an xattr) so an unpacker's fidelity can be checked;
#   layer 2 (top):  deletes /etc/motd (whiteout `.wh.motd`), replaces /data opaquely
#                   (`.wh..wh..opq`: /data/old and /data/keep vanish, /data/new appears),
#                   changes /etc/hostname.
# Usage: image.sh [OUTDIR]   (default rootfs-samples/build). Needs root (owners, mknod) and GNU tar.
# Writes OUTDIR/busybox-layers/ (OCI layout, tag "latest") and OUTDIR/busybox-layers.docker.tar.
set -euo pipefail

out=${1:-$(dirname "$0")/build}
mkdir -p "$out"
out=$(cd "$out" && pwd)
layout="$out/busybox-layers"
work=$(mktemp -d "$out/.image-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

busybox=/bin/busybox
[ -x "$busybox" ] || { echo "image.sh: $busybox missing: apt-get install busybox-static" >&2; exit 1; }

# A fixed mtime keeps the layers (and so the digests) reproducible.
epoch=1700000000
tar_layer() { # DIR OUT.tar
  tar --sort=name --numeric-owner --format=pax --xattrs --xattrs-include='user.*' \
      --mtime="@$epoch" --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
      -C "$1" -cf "$2" .
}

# --- layer 1: base --------------------------------------------------------------------------
base="$work/base"
mkdir -p "$base"/{bin,etc,data,tmp,dev,home/app,var/spool}
cp "$busybox" "$base/bin/busybox"
for applet in sh ls cat echo id whoami stat readlink env pwd true false sleep test; do
  ln -s busybox "$base/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app user:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$base/etc/passwd"
printf 'root:x:0:\napp:x:1000:\nstaff:x:50:app\nnogroup:x:65534:\n' > "$base/etc/group"
echo 'welcome to the base layer' > "$base/etc/motd"
echo base > "$base/etc/hostname"
echo 'old data' > "$base/data/old"
echo 'kept?' > "$base/data/keep"
mkdir -p "$base/data/sub" && echo deep > "$base/data/sub/file"
chmod 1777 "$base/tmp"
install -m 4755 /dev/null "$base/bin/setuid-demo"
install -m 2755 -d "$base/var/spool"
ln "$base/etc/hostname" "$base/etc/hostname.hardlink"
mkfifo "$base/var/spool/fifo"
mknod -m 666 "$base/dev/null" c 1 3
chown -R 1000:1000 "$base/home/app"
echo 'hello' > "$base/home/app/greeting"
chown 1000:50 "$base/home/app/greeting"
chmod 640 "$base/home/app/greeting"
python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.demo", b"layered")' "$base/etc/motd" 2>/dev/null || setfattr -n user.demo -v layered "$base/etc/motd" 2>/dev/null || true

# --- layer 2: top ----------------------------------------------------------------------------
top="$work/top"
mkdir -p "$top/etc" "$top/data"
: > "$top/etc/.wh.motd"
: > "$top/data/.wh..wh..opq"
echo 'new data' > "$top/data/new"
echo top > "$top/etc/hostname"

tar_layer "$base" "$work/layer1.tar"
tar_layer "$top" "$work/layer2.tar"

# --- OCI layout ------------------------------------------------------------------------------
rm -rf "$layout"
mkdir -p "$layout/blobs/sha256"
sha() { sha256sum "$1" | cut -d' ' -f1; }
blob() { # FILE → moves it into blobs/, prints its hex
  local h; h=$(sha "$1"); mv "$1" "$layout/blobs/sha256/$h"; echo "$h"
}
diff1=$(sha "$work/layer1.tar"); diff2=$(sha "$work/layer2.tar")
gzip -n -9 "$work/layer1.tar" "$work/layer2.tar"
size1=$(stat -c %s "$work/layer1.tar.gz"); size2=$(stat -c %s "$work/layer2.tar.gz")
l1=$(blob "$work/layer1.tar.gz"); l2=$(blob "$work/layer2.tar.gz")

node - "$work" "$diff1" "$diff2" "$l1" "$size1" "$l2" "$size2" <<'EOF'
const fs = require('node:fs');
const [work, d1, d2, l1, s1, l2, s2] = process.argv.slice(2);
const created = '2023-11-14T22:13:20Z';
const config = {
  created, architecture: 'amd64', os: 'linux',
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'SAMPLE=busybox-layers'],
            Entrypoint: ['/bin/sh', '-c'], Cmd: ['cat /etc/hostname; ls /data'], WorkingDir: '/home/app', User: 'app:staff',
            Labels: { 'org.opencontainers.image.title': 'busybox-layers' } },
  rootfs: { type: 'layers', diff_ids: [`sha256:${d1}`, `sha256:${d2}`] },
  history: [{ created, created_by: 'base: busybox, /etc/motd, /data' }, { created, created_by: 'top: rm /etc/motd; replace /data' }],
};
fs.writeFileSync(`${work}/config.json`, JSON.stringify(config));
fs.writeFileSync(`${work}/layers.json`, JSON.stringify([
  { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${l1}`, size: Number(s1) },
  { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${l2}`, size: Number(s2) },
]));
EOF
cfgsize=$(stat -c %s "$work/config.json"); cfg=$(blob "$work/config.json")
node - "$work" "$cfg" "$cfgsize" <<'EOF'
const fs = require('node:fs');
const [work, cfg, size] = process.argv.slice(2);
fs.writeFileSync(`${work}/manifest.json`, JSON.stringify({
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${cfg}`, size: Number(size) },
  layers: JSON.parse(fs.readFileSync(`${work}/layers.json`, 'utf8')),
}));
EOF
msize=$(stat -c %s "$work/manifest.json"); man=$(blob "$work/manifest.json")
printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"},"platform":{"architecture":"amd64","os":"linux"}}]}' \
  "$man" "$msize" > "$layout/index.json"

# --- docker archive (docker save format) -----------------------------------------------------
rm -f "$out/busybox-layers.docker.tar"
skopeo copy -q "oci:$layout:latest" "docker-archive:$out/busybox-layers.docker.tar:busybox-layers:latest"
echo "image.sh: wrote $layout (tag latest) and $out/busybox-layers.docker.tar"
