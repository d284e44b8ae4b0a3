import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { BlobCheck, DigestCheck, digestHex, hashOffThread, OFF_THREAD_BYTES } from '../../../src/image/digest.js';
import { sha } from './fixtures.js';

const sink = () => new Writable({ write(_c, _e, cb) { cb(); } });
const chunks = (n: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(1 << 16, i));

describe('DigestCheck', () => {
  for (const offThread of [false, true]) {
    const where = offThread ? 'on a worker thread' : 'in-thread';
    it(`passes matching content (${where})`, async () => {
      const data = chunks(40);
      await pipeline(Readable.from(data), new DigestCheck(sha(Buffer.concat(data)), 40 << 16, 'blob', undefined, offThread), sink());
    });
    it(`fails a mismatch, naming the blob (${where})`, async () => {
      const want = sha('something else');
      await expect(pipeline(Readable.from(chunks(40)), new DigestCheck(want, undefined, 'blob', undefined, offThread), sink()))
        .rejects.toThrow(`blob ${want}: digest mismatch`);
    });
  }
  it('hashes chunks read into borrowed ring slots in place, reusing the slots (worker thread)', async () => {
    // More chunks than slots: a slot handed out again before the worker hashed it would change the digest.
    const parts = Array.from({ length: 40 }, (_, i) => Buffer.alloc(700_000 + i * 1000, i * 7 + 1));
    for (const corrupt of [false, true]) {
      const check = new BlobCheck(sha(Buffer.concat(parts)), undefined, 'blob', true);
      try {
        expect(check.offThread).toBe(true);
        for (const [i, p] of parts.entries()) {
          const slot = await check.borrow()!;
          expect(slot.buffer).toBeInstanceOf(SharedArrayBuffer);
          p.copy(slot);
          if (corrupt && i === 33) slot[5]! ^= 1;
          await new Promise<void>((resolve, reject) => check.update(slot.subarray(0, p.length), (e) => (e ? reject(e) : resolve())));
        }
        if (corrupt) await expect(check.verify()).rejects.toThrow(/digest mismatch/);
        else await check.verify();
      } finally {
        check.close();
      }
    }
  });
  it('fails content longer or shorter than declared', async () => {
    const data = Buffer.from('abc');
    await expect(pipeline(Readable.from([data]), new DigestCheck(sha(data), 2), sink())).rejects.toThrow(/longer than its declared size/);
    await expect(pipeline(Readable.from([data]), new DigestCheck(sha(data), 4), sink())).rejects.toThrow(/3 bytes, expected 4/);
  });
  it('hashes big blobs off-thread whenever there are two cores, whatever the load', () => {
    expect(hashOffThread(OFF_THREAD_BYTES - 1)).toBe(false);
    expect(hashOffThread(OFF_THREAD_BYTES)).toBe(availableParallelism() >= 2);
    expect(hashOffThread(undefined)).toBe(availableParallelism() >= 2);
  });
  it('refuses malformed digests (they become file names)', () => {
    expect(() => digestHex('sha256:../../etc/passwd')).toThrow(/malformed/);
    expect(() => digestHex('sha512:' + 'a'.repeat(128))).toThrow(/unsupported/);
  });
});
