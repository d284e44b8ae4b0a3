#!/usr/bin/env bash
# Builds the busybox sample bundle that `make demo` and the integration tests run:
#   rootfs-samples/build/busybox/rootfs/       Debian's static busybox, every applet, /etc/passwd, /etc/group
#   rootfs-samples/build/busybox/config.json   written by `tsrun spec`, made non-interactive
# Idempotent: does nothing when the bundle's config.json exists. `make clean` (or deleting
# rootfs-samples/build/busybox) forces a rebuild. Needs `make build` first (it runs bin/tsrun.js).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$repo/rootfs-samples/build"
out="$build/busybox"
busybox=${BUSYBOX:-/bin/busybox}

[[ -f $out/config.json ]] && exit 0

check_busybox() {
  if [[ ! -x $busybox ]]; then
    echo "busybox.sh: $busybox not found; install the Debian package busybox-static (make deb-deps)" >&2
    exit 1
  fi
  # The rootfs holds no C library, so a dynamically linked busybox (package `busybox`) cannot start in it.
  if command -v readelf >/dev/null && LC_ALL=C readelf -l "$busybox" | grep -q 'program interpreter'; then
    echo "busybox.sh: $busybox is dynamically linked; install busybox-static instead of busybox" >&2
    exit 1
  fi
}

# Every applet as a relative symlink to /bin/busybox, so links resolve the same inside the
# container and from the host (tools that inspect the rootfs from outside follow them correctly).
install_busybox() {
  local rootfs=$1 applet up
  install -D -m 0755 "$busybox" "$rootfs/bin/busybox"
  while read -r applet; do
    [[ -e $rootfs/$applet || -L $rootfs/$applet ]] && continue
    mkdir -p "$rootfs/$(dirname "$applet")"
    up=$(dirname "$applet" | sed -e 's|^\.$||' -e 's|[^/][^/]*|..|g')
    ln -s "${up:+$up/}bin/busybox" "$rootfs/$applet"
  done < <("$busybox" --list-full)
}

write_etc() {
  local rootfs=$1
  cat >"$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  # tty (5) is the group the default devpts mount gives to terminals (gid=5).
  cat >"$rootfs/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
GROUP
}

make_rootfs() {
  local rootfs=$1
  mkdir -p "$rootfs"/{proc,sys,dev,tmp,etc,root,home/user,mnt,opt,srv}
  chmod 1777 "$rootfs/tmp"
  chmod 0700 "$rootfs/root"
  # Only root can hand the home directory to uid 1000; an unprivileged build leaves it as is.
  if [[ $(id -u) == 0 ]]; then chown 1000:1000 "$rootfs/home/user"; fi
  install_busybox "$rootfs"
  write_etc "$rootfs"
}

write_config() {
  local bundle=$1
  (cd "$bundle" && node "$repo/bin/tsrun.js" spec)
  # `tsrun spec` asks for a terminal (process.terminal: true) like `runc spec`, which needs a real tty
  # or a console socket. The README demo and the tests run with plain pipes (CI has no tty), so the
  # sample turns the terminal off; args stay ["sh"], which then reads commands from stdin.
  node -e '
    const fs = require("node:fs");
    const file = process.argv[1];
    const spec = JSON.parse(fs.readFileSync(file, "utf8"));
    spec.process.terminal = false;
    fs.writeFileSync(file, JSON.stringify(spec, null, "\t"));
  ' "$bundle/config.json"
}

check_busybox
mkdir -p "$build"
# Build beside the target and rename at the end: an interrupted run never leaves a half-made bundle
# that the config.json check above would take for a finished one.
tmp=$(mktemp -d "$build/.busybox.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
make_rootfs "$tmp/rootfs"
write_config "$tmp"
# Another build may have finished meanwhile (parallel make runs); keep its bundle, which may be in use.
[[ -f $out/config.json ]] && exit 0
rm -rf "$out"
mv "$tmp" "$out"
echo "busybox.sh: wrote $out"
