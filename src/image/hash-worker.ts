// sha256 on a worker thread, so hashing a large layer (~0.5 s of CPU for 800 MiB, measured) overlaps
// the unpacking instead of adding to it. The worker reads from a ring of 1 MiB slots in shared memory
// and only slot numbers are posted. A reader that can read straight into a slot (an uncompressed layer
// in a file, layer-store.ts) borrows one with take(), reads into it, and hands it back with update():
// the worker hashes the same memory the unpacker parses, nothing is copied. Other chunks (a stream's)
// are copied into free slots. A slot is reused only after the worker has hashed it and its borrower
// has moved on (the borrower takes its next slot only after it is done with the last one). A full
// ring makes the caller wait (backpressure). The worker is inline source: no separate file to ship.
import type { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
const ring = new Uint8Array(workerData.ring);
parentPort.on('message', (m) => {
  if (m === 'digest') { parentPort.postMessage({ digest: hash.digest('hex') }); return; }
  hash.update(ring.subarray(m.at, m.at + m.len));
  parentPort.postMessage({ free: m.slot });
});
`;

/** Bytes per slot: a reader borrowing slots reads at most this much at a time. */
export const SLOT = 1 << 20;
const SLOTS = 16;

export class WorkerHash {
  private readonly ring = new SharedArrayBuffer(SLOT * SLOTS);
  private readonly view = new Uint8Array(this.ring);
  // Loaded on first use, not at import: the CLI's V8 start-up snapshot must not load worker_threads.
  private readonly worker: Worker = new (process.getBuiltinModule('node:worker_threads').Worker)(SOURCE, {
    eval: true,
    workerData: { ring: this.ring },
    execArgv: [], // never the parent's flags (a start-up snapshot, a test runner's --require hooks)
  });
  private readonly free: number[] = Array.from({ length: SLOTS }, (_, i) => i);
  private blocked: (() => void) | undefined;
  private onDigest: ((hex: string) => void) | undefined;
  private failure: Error | undefined;

  constructor() {
    this.worker.unref();
    this.worker.on('message', (m: { free?: number; digest?: string }) => {
      if (m.digest !== undefined) { this.onDigest?.(m.digest); return; }
      this.free.push(m.free!);
      this.wake();
    });
    this.worker.on('error', (e) => { this.failure = e; this.wake(); });
  }

  private wake(): void {
    const b = this.blocked;
    this.blocked = undefined;
    b?.();
  }

  /**
   * Lends a free slot (SLOT bytes of the ring) to read the next chunk into; `got` runs once one is
   * free. Give it back, filled, with update(slot.subarray(0, n)) before taking the next.
   */
  take(got: (slot: Buffer) => void): void {
    const slot = this.free.pop();
    if (slot !== undefined || this.failure) {
      got(Buffer.from(this.ring, (slot ?? 0) * SLOT, SLOT));
      return;
    }
    this.blocked = () => this.take(got);
  }

  /** Queues a chunk (in order); `ready` runs once all of it is in the ring. A lent slot is not copied. */
  update(chunk: Buffer, ready: () => void): void {
    if (chunk.buffer === this.ring) {
      const at = chunk.byteOffset;
      this.worker.postMessage({ slot: Math.floor(at / SLOT), at, len: chunk.length });
      ready();
      return;
    }
    let at = 0;
    const pump = (): void => {
      while (at < chunk.length) {
        if (this.failure) break;
        const slot = this.free.pop();
        if (slot === undefined) { this.blocked = pump; return; }
        const len = Math.min(SLOT, chunk.length - at);
        this.view.set(chunk.subarray(at, at + len), slot * SLOT);
        this.worker.postMessage({ slot, at: slot * SLOT, len });
        at += len;
      }
      ready();
    };
    pump();
  }

  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.onDigest = (hex) => { void this.worker.terminate(); resolve(hex); };
      this.worker.once('error', reject);
      this.worker.postMessage('digest');
    });
  }

  close(): void { void this.worker.terminate(); }
}
