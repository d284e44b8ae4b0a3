// zstd layer decompression. Node 20's zlib has no zstd. libzstd (which Debian's dpkg pre-depends on,
// so it is always there) is called through koffi: 1.05 s for a 700 MB layer where fzstd, the pure-JS
// decoder, took 7.5 s (measured). Its calls run on the thread pool (koffi's async calls), like
// zlib's gunzip, so decoding overlaps the unpacking on the main thread. fzstd stays as the fallback
// where libzstd cannot be loaded.
import { Transform, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';
import { loadKoffi } from '../native/koffi.js';

interface LibZstd {
  createDCtx: () => unknown;
  freeDCtx: (dctx: unknown) => number;
  isError: (code: number) => number;
  getErrorName: (code: number) => string;
  /** Consumes src from srcPos[0], writes dst from dstPos[0]; returns 0 when a frame is complete. */
  decompress: { async: (...args: [...DecompressArgs, (err: unknown, ret: number) => void]) => void };
}

type DecompressArgs = [dctx: unknown, dst: Buffer, dstCap: number, dstPos: number[], src: Buffer, srcSize: number, srcPos: number[]];

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
  /** Last return value: 0 when the input ended on a frame boundary. */
  private pending = 0;
  /** A call is running on the thread pool: the context must outlive it. */
  private busy = false;
  private freeWhenIdle = false;

  constructor(private readonly z: LibZstd) {
    super({ highWaterMark: 1 << 20 });
    this.dctx = z.createDCtx();
  }

  /** Decodes `src` until it is consumed and the decoder holds no more output. */
  private run(src: Buffer, done: (err?: Error) => void): void {
    const srcPos = [0];
    const step = (): void => {
      const dstPos = [0];
      const out = Buffer.allocUnsafe(OUT); // each output buffer is handed downstream as is
      this.busy = true;
      this.z.decompress.async(this.dctx, out, OUT, dstPos, src, src.length, srcPos, (err, ret) => {
        this.busy = false;
        if (this.freeWhenIdle) { this.free(); done(new Error('zstd: stream destroyed')); return; }
        if (err) { done(err as Error); return; }
        if (this.z.isError(ret)) { done(new Error(`zstd: ${this.z.getErrorName(ret)}`)); return; }
        this.pending = ret;
        const n = dstPos[0]!;
        if (n > 0) this.push(n === OUT ? out : out.subarray(0, n));
        if (srcPos[0]! >= src.length && n < OUT) done();
        else step();
      });
    };
    step();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.run(chunk, cb);
  }

  override _flush(cb: TransformCallback): void {
    // run() already drained the decoder; calling it with no input would only return the size hint
    // for a next frame. A frame left unfinished means the input was cut short.
    cb(this.pending === 0 ? null : new Error('zstd: truncated input'));
  }

  private free(): void {
    if (this.dctx) { this.z.freeDCtx(this.dctx); this.dctx = undefined; }
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.busy) this.freeWhenIdle = true;
    else this.free();
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
