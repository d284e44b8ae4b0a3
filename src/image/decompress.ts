// Decompressors for layer blobs: gzip is zlib's (on the thread pool), zstd see ./zstd.ts.
import { createGunzip } from 'node:zlib';
import { PassThrough, type Transform } from 'node:stream';
import type { Compression } from './types.js';
import { zstdDecompressor } from './zstd.js';

export function decompressor(c: Compression): Transform {
  switch (c) {
    case 'gzip': return createGunzip({ chunkSize: 1 << 20 });
    case 'zstd': return zstdDecompressor();
    case 'none': return new PassThrough({ highWaterMark: 1 << 20 });
  }
}

/** Compression of a blob, from its first bytes (docker archives do not say). */
export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}
