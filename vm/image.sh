#!/usr/bin/env bash
# Build (or reuse) the VM lane's boot files under vm/build/:
#   vm/build/vmlinux            uncompressed kernel (ELF, booted directly through its PVH entry)
#   vm/build/initramfs.cpio     busybox + guest init scripts + the few kernel modules needed
#   vm/build/kernel-version     e.g. 6.1.0-56-amd64
# Everything comes from Debian packages: qemu-system-x86 (with qemu's own virtiofsd), busybox-static, and
# linux-image-6.1.0-*-amd64 fetched with `apt-get download` and unpacked with `dpkg -x` (never installed).
#
# Usage: vm/image.sh [--force] [--quiet]
#   --force   rebuild the kernel and the initramfs even if they exist
# Env: TSRUN_VM_KERNEL_PKG=linux-image-6.1.0-NN-amd64 pins the kernel package (default: newest available).
# The kernel is rebuilt only when missing; the initramfs whenever vm/guest/* or this script is newer.
set -euo pipefail
export LC_ALL=C

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$VM_DIR/build
force=0 quiet=0
for a in "$@"; do
  case $a in
    --force) force=1 ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "image.sh: unknown argument: $a" >&2; exit 2 ;;
  esac
done
log() { [ "$quiet" = 1 ] || echo "vm/image.sh: $*" >&2; }
die() { echo "vm/image.sh: error: $*" >&2; exit 1; }

# Modules the guest loads, in addition to their dependencies (resolved from modules.dep below).
# virtio_pci: the transport; virtiofs (+fuse): host root and results share; overlay: guest root;
# virtio_blk: scratch disk for io.max; virtio_console: /dev/hvc0 carries the command's output;
# bfq: io.bfq.weight tests can switch the scratch disk's scheduler to bfq.
MODULES="virtio_pci virtio_console virtio_blk virtiofs overlay bfq"

# ---- host packages ---------------------------------------------------------------------------------
# qemu-system-x86 (its qemu-system-common ships /usr/lib/qemu/virtiofsd in bookworm's qemu 7.2; no
# separate virtiofsd package exists there), busybox-static (guest userland, and depmod/cpio for the build),
# xz-utils (the kernel image is xz-compressed), util-linux (unshare/mount for virtiofsd's read-only view),
# systemd and dbus (vm/run.sh --systemd boots the host's /lib/systemd/systemd; a test starts its system
# bus): installed, never started on the host.
need_pkgs() {
  local missing="" p
  for p in qemu-system-x86 busybox-static xz-utils util-linux systemd dbus; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || die "missing Debian packages:$missing (run as root to install them)"
    log "installing Debian packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  [ -x /usr/lib/qemu/virtiofsd ] || die "/usr/lib/qemu/virtiofsd not found (qemu-system-common should ship it)"
}
need_pkgs
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || BUSYBOX=$(command -v busybox) || die "busybox not found"

mkdir -p "$BUILD"
# Several vm/run.sh may start at once (other lanes, parallel make): one builder at a time.
exec 9>"$BUILD/.image.lock"
flock 9

# ---- kernel ---------------------------------------------------------------------------------------
newest_kernel_pkg() {
  # Newest linux-image-6.1.0-N-amd64 that apt can actually install (pkgnames also lists names with no
  # candidate). Signed and unsigned images are identical for our purpose; we only unpack.
  local p best=""
  for p in $(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -V); do
    # (no `| grep -q`: with pipefail, grep's early exit would fail the pipeline on SIGPIPE)
    case $(apt-cache policy "$p") in *"Candidate: (none)"*|"") ;; *) best=$p ;; esac
  done
  [ -n "$best" ] || return 1
  echo "$best"
}

if [ "$force" = 1 ] || [ ! -s "$BUILD/vmlinux" ] || [ ! -s "$BUILD/kernel-version" ] ||
   [ ! -d "$BUILD/kernel/lib/modules/$(cat "$BUILD/kernel-version" 2>/dev/null)" ]; then
  pkg=${TSRUN_VM_KERNEL_PKG:-}
  if [ -z "$pkg" ]; then
    pkg=$(newest_kernel_pkg) || { apt-get update -qq; pkg=$(newest_kernel_pkg); } ||
      die "no linux-image-6.1.0-*-amd64 package found by apt-cache (is a bookworm source configured?)"
  fi
  log "kernel: downloading $pkg"
  rm -rf "$BUILD/dl" "$BUILD/kernel" "$BUILD/vmlinux" "$BUILD/kernel-version"
  mkdir -p "$BUILD/dl"
  # apt-get download drops privileges to _apt when it can; in a root-owned dir it warns and goes on.
  # Stale package lists can name a file the mirror no longer has: update them and retry once.
  download() { (cd "$BUILD/dl" && apt-get download -q "$pkg") > "$BUILD/dl/apt.log" 2>&1; }
  if ! download; then
    log "apt-get download $pkg failed; updating the package lists and retrying"
    apt-get update -qq && download ||
      { cat "$BUILD/dl/apt.log" >&2; die "apt-get download $pkg failed"; }
  fi
  grep -v '^W: Download is performed unsandboxed' "$BUILD/dl/apt.log" | grep -v '^Get:' >&2 || true
  deb=$(ls "$BUILD"/dl/*.deb) || die "apt-get download $pkg produced no .deb"
  dpkg -x "$deb" "$BUILD/kernel"
  kver=$(ls "$BUILD/kernel/lib/modules")
  [ -f "$BUILD/kernel/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in $deb"
  log "kernel: $kver; generating modules.dep (busybox depmod)"
  "$BUSYBOX" depmod -b "$BUILD/kernel" "$kver"
  "$VM_DIR/extract-vmlinux.sh" "$BUILD/kernel/boot/vmlinuz-$kver" "$BUILD/vmlinux.tmp"
  mv "$BUILD/vmlinux.tmp" "$BUILD/vmlinux"
  rm -rf "$BUILD/dl"
  echo "$kver" > "$BUILD/kernel-version"
  force=1
fi
kver=$(cat "$BUILD/kernel-version")
MODDIR=$BUILD/kernel/lib/modules/$kver

# ---- initramfs ------------------------------------------------------------------------------------
stale=$force
[ -s "$BUILD/initramfs.cpio" ] || stale=1
for f in "$VM_DIR"/guest/* "$0"; do
  [ "$f" -nt "$BUILD/initramfs.cpio" ] && stale=1
done
if [ "$stale" = 0 ]; then
  log "up to date: vmlinux ($kver), initramfs.cpio"
  exit 0
fi

log "initramfs: resolving modules"
declare -A seen=()
order=()
modpath() { # module name -> path relative to $MODDIR (names may use - or _)
  local n=${1//-/_} line
  line=$(awk -F: -v n="$n" '{ b=$1; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b); if (b == n) { print $1; exit } }' "$MODDIR/modules.dep")
  [ -n "$line" ] || return 1
  echo "$line"
}
resolve() { # depth-first: dependencies before the module
  local p=$1 d deps
  [ -n "${seen[$p]:-}" ] && return 0
  seen[$p]=1
  deps=$(awk -F: -v p="$p" '$1 == p { print $2; exit }' "$MODDIR/modules.dep")
  for d in $deps; do resolve "$d"; done
  order+=("$p")
}
for m in $MODULES; do
  if grep -qE "/${m}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then continue; fi
  p=$(modpath "$m") || die "module $m not found in $MODDIR/modules.dep"
  resolve "$p"
done

stage=$(mktemp -d "$BUILD/initramfs.XXXXXX")
mkdir -p "$stage"/{bin,dev,proc,sys,etc,lib/modules,host,upper,newroot,systemd}
cp "$BUSYBOX" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$VM_DIR/guest/init" "$stage/init"
cp "$VM_DIR/guest/stage2" "$stage/stage2"
# vm/run.sh --systemd: stage 1 installs these in the new root before it starts systemd.
cp "$VM_DIR/guest/tsrun-vm.target" "$VM_DIR/guest/tsrun-vm.service" "$stage/systemd/"
chmod 755 "$stage/init" "$stage/stage2"
: > "$stage/etc/modules"
for p in "${order[@]}"; do
  cp "$MODDIR/$p" "$stage/lib/modules/"
  basename "$p" >> "$stage/etc/modules"
done
echo "$kver" > "$stage/etc/kernel-version"
# The kernel opens /dev/console from the initramfs for init's stdio (init re-opens it after devtmpfs too).
mknod "$stage/dev/console" c 5 1 2>/dev/null || true
(cd "$stage" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null > "$BUILD/initramfs.cpio.tmp")
mv "$BUILD/initramfs.cpio.tmp" "$BUILD/initramfs.cpio"
log "initramfs: $(tr '\n' ' ' < "$stage/etc/modules")-> initramfs.cpio ($(stat -c %s "$BUILD/initramfs.cpio") bytes)"
rm -rf "$stage"
