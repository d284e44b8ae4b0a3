// zstd layer decompression. Node 20's zlib has no zstd. libzstd (a dependency of Debian's dpkg, so
// always there) is called through koffi: ~0.6 s of CPU for a 700 MB layer where fzstd, the pure-JS
// decoder, took 7.5 s (measured). fzstd stays as the fallback where libzstd cannot be loaded.
import { Transform, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';
import { loadKoffi } from '../native/koffi.js';

interface LibZstd {
  createDCtx: () => unknown;
  freeDCtx: (dctx: unknown) => number;
  isError: (code: number) => number;
  getErrorName: (code: number) => string;
  /** Consumes src from srcPos[0], writes dst from dstPos[0]; returns 0 when a frame is complete. */
  decompress: (dctx: unknown, dst: Buffer, dstCap: number, dstPos: number[], src: Buffer, srcSize: number, srcPos: number[]) => number;
}

let lib: LibZstd | null | undefined;

function libzstd(): LibZstd | null {
  if (lib !== undefined) return lib;
  try {
    const l = loadKoffi().load('libzstd.so.1');
    lib = {
      createDCtx: l.func('void *ZSTD_createDCtx(void)'),
      freeDCtx: l.func('size_t ZSTD_freeDCtx(void *dctx)'),
      isError: l.func('unsigned int ZSTD_isError(size_t code)'),
      getErrorName: l.func('const char *ZSTD_getErrorName(size_t code)'),
      decompress: l.func('size_t ZSTD_decompressStream_simpleArgs(void *dctx, void *dst, size_t dstCapacity, _Inout_ size_t *dstPos, const void *src, size_t srcSize, _Inout_ size_t *srcPos)'),
    };
  } catch {
    lib = null;
  }
  return lib;
}

const OUT = 1 << 20;

class NativeZstd extends Transform {
  private dctx: unknown;
  private out = Buffer.allocUnsafe(OUT);
  /** Last return value: 0 when the input ended on a frame boundary. */
  private pending = 0;

  constructor(private readonly z: LibZstd) {
    super({ highWaterMark: 1 << 20 });
    this.dctx = z.createDCtx();
  }

  /** Runs the decoder over `src` until it is consumed and no output is left in the decoder. */
  private run(src: Buffer): void {
    const srcPos = [0];
    for (;;) {
      const dstPos = [0];
      const ret = this.z.decompress(this.dctx, this.out, OUT, dstPos, src, src.length, srcPos);
      if (this.z.isError(ret)) throw new Error(`zstd: ${this.z.getErrorName(ret)}`);
      this.pending = ret;
      const n = dstPos[0]!;
      if (n > 0) {
        this.push(n === OUT ? this.out : this.out.subarray(0, n));
        this.out = Buffer.allocUnsafe(OUT); // the pushed buffer now belongs downstream
      }
      if (srcPos[0]! >= src.length && n < OUT) return;
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try { this.run(chunk); cb(); } catch (e) { cb(e as Error); }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.run(Buffer.alloc(0));
      cb(this.pending === 0 ? null : new Error('zstd: truncated input'));
    } catch (e) {
      cb(e as Error);
    }
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.dctx) { this.z.freeDCtx(this.dctx); this.dctx = undefined; }
    cb(err);
  }
}

class PureJsZstd extends Transform {
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

/** A zstd decoding stream: libzstd when available, else fzstd. */
export function zstdDecompressor(forcePureJs = false): Transform {
  const z = forcePureJs ? null : libzstd();
  return z ? new NativeZstd(z) : new PureJsZstd();
}
