// A blob's bytes as one stream, however many connections it took: when a connection breaks or
// stalls mid-blob, the next request asks for the rest with `Range: bytes=N-` and the stream goes on
// where it stopped, so the layer being unpacked from it never notices. A registry that ignores
// Range (200 instead of 206) is read from the start again and the bytes already had are skipped.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { RegistryError } from './errors.js';

export interface ResumableBlobOptions {
  digest: string;
  size: number;
  /** Opens the blob from `offset` on (200 or 206 response), or rejects. */
  open(offset: number): Promise<IncomingMessage>;
  /** A connection broke at `offset`; the next request resumes there. */
  onResume?(offset: number, reason: string): void;
  /** Interruptions tolerated per blob. */
  maxResumes?: number;
  /** Wait before resuming (ms), doubled each time. */
  backoffMs?: number;
}

/** Where a 206 response starts (`Content-Range: bytes START-END/TOTAL`). */
function rangeStart(res: IncomingMessage): number | undefined {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
  return m ? Number(m[1]) : undefined;
}

/** Most bytes handed down as one chunk. */
const COALESCE = 1 << 20;

export class ResumableBlob extends Readable {
  private res: IncomingMessage | undefined;
  private opening = false;
  private received = 0;
  private resumes = 0;

  constructor(private readonly o: ResumableBlobOptions) {
    super({ highWaterMark: 1 << 20 });
  }

  /** Bytes delivered so far. */
  get bytes(): number { return this.received; }

  override _read(): void {
    if (this.res) this.res.resume();
    else if (!this.opening) this.connect();
  }

  private connect(): void {
    this.opening = true;
    const at = this.received;
    this.o.open(at).then((res) => {
      this.opening = false;
      if (this.destroyed) { res.destroy(); return; }
      this.attach(res, at);
    }, (e: unknown) => {
      this.opening = false;
      this.destroy(e as Error);
    });
  }

  private attach(res: IncomingMessage, at: number): void {
    let skip = 0;
    if (at > 0) {
      if (res.statusCode === 200) skip = at;
      else if (rangeStart(res) !== at) {
        res.destroy();
        this.destroy(new RegistryError('protocol', `blob ${this.o.digest}: asked for bytes from ${at}, got ${String(res.headers['content-range'] ?? 'no Content-Range')}`));
        return;
      }
    }
    this.res = res;
    let settled = false;
    // A socket read brings at most 64 KiB, and each chunk handed down costs a round of the hash
    // worker's messages, of the gunzip on the thread pool and of the tar parser: the reads of one turn
    // of the event loop (up to COALESCE bytes) go down as one chunk. Measured on a 43 MiB gzip layer
    // (tmpfs, 10 runs each): user CPU 1.00 → 0.90 s; wall time within noise (1.29 ± 0.10 s against
    // 1.38 ± 0.17). Kept for the CPU: several layers flow at once on few cores.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let scheduled = false;
    const flush = (): void => {
      scheduled = false;
      if (pendingBytes === 0 || this.destroyed) return;
      const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      pending = [];
      pendingBytes = 0;
      if (!this.push(chunk) && this.res === res) res.pause();
    };
    const interrupted = (reason: string): void => {
      if (settled) return;
      settled = true;
      flush();
      this.res = undefined;
      res.removeAllListeners('data');
      res.destroy();
      this.resumeOrFail(reason);
    };
    res.on('data', (chunk: Buffer) => {
      if (skip > 0) {
        if (chunk.length <= skip) { skip -= chunk.length; return; }
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      this.received += chunk.length;
      if (this.received > this.o.size) {
        settled = true;
        res.destroy();
        this.destroy(new RegistryError('integrity', `blob ${this.o.digest}: longer than its declared size ${this.o.size}`));
        return;
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= COALESCE) flush();
      else if (!scheduled) { scheduled = true; setImmediate(flush); }
    });
    res.once('end', () => {
      if (settled) return;
      if (this.received === this.o.size) { settled = true; flush(); this.res = undefined; this.push(null); return; }
      interrupted(`the response ended after ${this.received} of ${this.o.size} bytes`);
    });
    res.once('error', (e) => interrupted((e as NodeJS.ErrnoException).code ?? e.message));
    res.once('aborted', () => interrupted('connection aborted'));
  }

  private resumeOrFail(reason: string): void {
    if (this.destroyed) return;
    const max = this.o.maxResumes ?? 5;
    if (++this.resumes > max) {
      this.destroy(new RegistryError('network', `blob ${this.o.digest}: truncated: ${this.received} of ${this.o.size} bytes after ${max} resumed attempts (${reason})`));
      return;
    }
    this.o.onResume?.(this.received, reason);
    const wait = (this.o.backoffMs ?? 200) * 2 ** (this.resumes - 1);
    setTimeout(() => { if (!this.destroyed) this.connect(); }, wait);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.res?.destroy();
    this.res = undefined;
    cb(err);
  }
}
