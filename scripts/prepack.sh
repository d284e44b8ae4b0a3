#!/bin/sh
# npm runs this before it packs the package (npm pack, npm publish) and when it installs tsrun from
# git: the tarball must hold what a run needs, built (dist/, bin/tsrun, tsrun-init, the shim library),
# so that installing it needs no compiler. Building needs make and a C compiler: say so plainly.
set -e
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  echo "tsrun: building tsrun from source needs make and a C compiler ($cc), for its native parts (native-bindings/): on Debian, apt-get install build-essential; or install a packed release (npm pack), which has them built" >&2
  exit 1
fi
make build
