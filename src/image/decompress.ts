// Decompressors for layer blobs. gzip is zlib's; Node 20's zlib has no zstd, so zstd layers go
// through fzstd, a small pure-JS streaming decoder (no native build, works wherever Node does).
import { createGunzip } from 'node:zlib';
import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';
import type { Compression } from './types.js';

class ZstdDecompress extends Transform {
  private readonly z: Decompress;
  constructor() {
    super({ highWaterMark: 1 << 20 });
    this.z = new Decompress((chunk) => { this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)); });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try { this.z.push(chunk); cb(); } catch (e) { cb(e as Error); }
  }
  override _flush(cb: TransformCallback): void {
    try { this.z.push(new Uint8Array(0), true); cb(); } catch (e) { cb(e as Error); }
  }
}

export function decompressor(c: Compression): Transform {
  switch (c) {
    case 'gzip': return createGunzip({ chunkSize: 1 << 20 });
    case 'zstd': return new ZstdDecompress();
    case 'none': return new PassThrough({ highWaterMark: 1 << 20 });
  }
}

/** Compression of a blob, from its first bytes (docker archives do not say). */
export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}
