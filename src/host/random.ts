// Unpredictable names (a temp file's, a generated container id's suffix) from the kernel's random
// source. Read from /dev/urandom rather than through Web Crypto's global: its first use loads Node's
// internal/crypto modules, ~3 ms at run time, and the startup snapshot's build (whose warm-up writes
// state files) would keep them in the heap every command deserializes (~180 KB of blob). The global
// stays the fallback where /dev/urandom cannot be read.
//
// Read a pool at a time: each read is an open, a read and a close (20-40 us here, several times that
// while a container is cloned), and a library run() takes three names (its id, two state files).
// Never while the startup snapshot is built: the pool would be in the blob, and every command started
// from it would draw the same names.
import { closeSync, openSync, readSync } from 'node:fs';
import { startupSnapshot } from 'node:v8';

const POOL_BYTES = 256;
let pool: { bytes: Buffer; used: number } | undefined;

/** `bytes` random bytes as hex (2 characters a byte). */
export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES || startupSnapshot.isBuildingSnapshot()) return fresh(bytes).toString('hex');
  if (!pool || pool.used + bytes > POOL_BYTES) pool = { bytes: fresh(POOL_BYTES), used: 0 };
  const hex = pool.bytes.toString('hex', pool.used, pool.used + bytes);
  // Handed out once: overwritten, so that nothing later in this heap can give the same bytes again.
  pool.bytes.fill(0, pool.used, pool.used + bytes);
  pool.used += bytes;
  return hex;
}

function fresh(bytes: number): Buffer {
  const buf = Buffer.alloc(bytes);
  let fd: number | undefined;
  try {
    fd = openSync('/dev/urandom', 'r');
    if (readSync(fd, buf, 0, bytes, null) === bytes) return buf;
  } catch {
    // no /dev/urandom here: Web Crypto below
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes)));
}
