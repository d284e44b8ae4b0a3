#!/usr/bin/env bash
# Extract the uncompressed ELF vmlinux from a bzImage (vmlinuz).
# Usage: vm/extract-vmlinux.sh BZIMAGE OUT
# Like the kernel's scripts/extract-vmlinux: find each known compression magic in the image, try to
# decompress from there, keep the first result that is an ELF file. Booting the ELF directly (PVH entry)
# saves the in-guest decompression, which is slow under TCG.
set -euo pipefail
export LC_ALL=C

if [ $# -ne 2 ]; then echo "usage: $0 BZIMAGE OUT" >&2; exit 2; fi
img=$1 out=$2
[ -r "$img" ] || { echo "extract-vmlinux: cannot read $img" >&2; exit 1; }

is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; }

# name | grep -P pattern of the magic | decompressor reading stdin (must tolerate trailing data)
try() {
  local name=$1 magic=$2 cmd=$3 off
  command -v "${cmd%% *}" >/dev/null 2>&1 || return 1
  for off in $(grep -obUaP "$magic" "$img" | cut -d: -f1); do
    # Decompressors complain about the trailing data after the stream; only the output matters.
    tail -c "+$((off + 1))" "$img" | $cmd > "$out.tmp" 2>/dev/null || true
    if [ -s "$out.tmp" ] && is_elf "$out.tmp"; then
      mv "$out.tmp" "$out"
      echo "extract-vmlinux: $name stream at offset $off -> $out ($(stat -c %s "$out") bytes)" >&2
      return 0
    fi
  done
  rm -f "$out.tmp"
  return 1
}

try xz    '\xfd\x37\x7a\x58\x5a\x00' 'xz -dc --single-stream' ||
try zstd  '\x28\xb5\x2f\xfd'         'zstd -dcq' ||
try gzip  '\x1f\x8b\x08'             'gzip -dc' ||
try lz4   '\x02\x21\x4c\x18'         'lz4 -dc' ||
try lzma  '\x5d\x00\x00\x00'         'xz -dc --format=lzma' ||
{ echo "extract-vmlinux: no known compressed ELF kernel found in $img" >&2; exit 1; }
