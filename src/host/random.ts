// Unpredictable names (a temp file's, a generated container id's suffix) from the kernel's random
// source. Read from /dev/urandom rather than through Web Crypto's global: its first use loads Node's
// internal/crypto modules, ~3 ms at run time, and the startup snapshot's build (whose warm-up writes
// state files) would keep them in the heap every command deserializes (~180 KB of blob). The global
// stays the fallback where /dev/urandom cannot be read.
import { closeSync, openSync, readSync } from 'node:fs';

/** `bytes` random bytes as hex (2 characters a byte). */
export function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
    if (readSync(fd, buf, 0, bytes, null) === bytes) return buf.toString('hex');
  } catch {
    // no /dev/urandom here: Web Crypto below
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString('hex');
}
