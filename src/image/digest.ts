// sha256 digests: parsing (the hex becomes a file name, so it is validated strictly) and checking
// while a blob streams, so a corrupt or substituted blob is caught before anything built from it is kept.
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { TsrunError } from '../errors.js';
import { WorkerHash } from './hash-worker.js';

import { digestHex } from './digest-hex.js';

export { digestHex };

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Checks a whole in-memory blob against its digest (and size, when known). */
export function verifyBuffer(data: Buffer, digest: string, size?: number): void {
  digestHex(digest);
  if (size !== undefined && data.length !== size) throw new TsrunError(`blob ${digest}: size ${data.length} does not match the expected ${size}`, { file: digest });
  const got = sha256(data);
  if (got !== digest) throw new TsrunError(`blob ${digest}: digest mismatch (content is ${got})`, { file: digest });
}

/** Blobs at least this large may be hashed on a worker thread; below, a worker's start-up costs more. */
export const OFF_THREAD_BYTES = 16 << 20;

/**
 * Whether to hash a blob of `size` bytes on a worker thread: on two cores or more, always (the same
 * answer from one run to the next). The worker now hashes the memory the unpacker reads from (an
 * uncompressed layer in a file is read straight into its ring: no copy on the main thread), so what
 * it adds is its start-up and the data crossing between cores: ~0.25 s of CPU per 814 MiB, none of it
 * on the main thread. Measured on tmpfs, 2 cores, an 814 MiB / 76k-entry layer (medians of 5-7):
 *   uncompressed, quiet machine:        worker 1.25 s, in-thread 1.64 s (CPU 1.90 s / 1.70 s);
 *   uncompressed, both cores busy with
 *     two other busy loops:             worker 2.44 s, in-thread 2.62 s;
 *   zstd (260 MiB blob):                worker 2.14 s, in-thread 2.29 s;
 *   gzip (314 MiB blob; gunzip on the
 *     thread pool is the bottleneck):   worker 3.15 s, in-thread 3.08 s.
 * It used to follow the 1-minute load average, which an import itself pushes over 1 on 2 cores, so
 * consecutive imports flipped between the two (bimodal timings).
 */
export function hashOffThread(size: number | undefined): boolean {
  if (size !== undefined && size < OFF_THREAD_BYTES) return false;
  return availableParallelism() >= 2;
}

/**
 * Hashes a blob's chunks in order and checks the total against its digest (and size, when known).
 * Big blobs are hashed on a worker thread; there update() may ask the caller to wait (`ready`).
 */
export class BlobCheck {
  private readonly hash?: Hash;
  private readonly worker?: WorkerHash;
  bytes = 0;

  constructor(readonly digest: string, readonly size?: number, readonly what = 'blob', offThread = false) {
    digestHex(digest, what);
    if (offThread) this.worker = new WorkerHash();
    else this.hash = createHash('sha256');
  }

  /** True when hashing runs on the worker thread. */
  get offThread(): boolean { return this.worker !== undefined; }

  /**
   * With hashing on the worker, a slot of its shared ring (SLOT bytes) to read the next chunk into:
   * update() of a part of it then copies nothing. Undefined when hashing in-thread. Take the next one
   * only after this one went through update() and the chunk is done with.
   */
  borrow(): Promise<Buffer> | undefined {
    const w = this.worker;
    return w && new Promise((resolve) => w.take(resolve));
  }

  /** Takes a chunk (copied or hashed before `ready` runs, so the caller may then reuse it, unless it was borrowed). */
  update(chunk: Buffer, ready: (err?: TsrunError) => void): void {
    this.bytes += chunk.length;
    if (this.size !== undefined && this.bytes > this.size) {
      ready(new TsrunError(`${this.what} ${this.digest}: longer than its declared size ${this.size}`, { file: this.digest }));
      return;
    }
    if (this.worker) this.worker.update(chunk, () => ready());
    else { this.hash!.update(chunk); ready(); }
  }

  /** Resolves if all chunks matched the digest and size; rejects with a TsrunError naming the blob. */
  async verify(): Promise<void> {
    if (this.size !== undefined && this.bytes !== this.size) {
      throw new TsrunError(`${this.what} ${this.digest}: ${this.bytes} bytes, expected ${this.size}`, { file: this.digest });
    }
    const got = 'sha256:' + (this.worker ? await this.worker.digest() : this.hash!.digest('hex'));
    if (got !== this.digest) throw new TsrunError(`${this.what} ${this.digest}: digest mismatch (content is ${got})`, { file: this.digest });
  }

  close(): void { this.worker?.close(); }
}

/**
 * A pass-through stream that hashes what flows through it and fails at the end if the digest (or
 * size) differs. The error comes before the stream ends, so consumers never see a clean end.
 */
export class DigestCheck extends Transform {
  private readonly check: BlobCheck;

  constructor(readonly digest: string, size?: number, what = 'blob', readonly onBytes?: (n: number) => void, offThread = false) {
    super({ highWaterMark: 1 << 20 });
    this.check = new BlobCheck(digest, size, what, offThread);
  }

  get bytes(): number { return this.check.bytes; }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.check.update(chunk, (err) => {
      if (err) { cb(err); return; }
      this.onBytes?.(chunk.length);
      cb(null, chunk);
    });
  }

  override _flush(cb: TransformCallback): void {
    this.check.verify().then(() => cb(), (e: Error) => cb(e));
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.check.close();
    cb(err);
  }
}
