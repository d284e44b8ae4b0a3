import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { zstdDecompressor } from '../../../src/image/zstd.js';

const hasZstd = (() => { try { execFileSync('zstd', ['--version']); return true; } catch { return false; } })();
const compress = (b: Buffer): Buffer => execFileSync('zstd', ['-q', '-c', '-3'], { input: b, maxBuffer: 1 << 28 });

async function decode(data: Buffer, pureJs: boolean, step = 65536): Promise<Buffer> {
  const out: Buffer[] = [];
  const pieces = Array.from({ length: Math.ceil(data.length / step) }, (_, i) => data.subarray(i * step, (i + 1) * step));
  await pipeline(Readable.from(pieces), zstdDecompressor(pureJs), new Writable({ write(c: Buffer, _e, cb) { out.push(Buffer.from(c)); cb(); } }));
  return Buffer.concat(out);
}

describe.skipIf(!hasZstd)('zstd decompression', () => {
  // Compressible text plus random bytes, bigger than one output buffer, in two frames.
  const plain = Buffer.concat([Buffer.from('layer '.repeat(400_000)), randomBytes(1 << 20)]);
  const twoFrames = Buffer.concat([compress(plain.subarray(0, 1000)), compress(plain.subarray(1000))]);

  for (const pureJs of [false, true]) {
    const which = pureJs ? 'fzstd' : 'libzstd';
    it(`${which}: decodes multi-frame input fed in pieces`, async () => {
      expect((await decode(twoFrames, pureJs)).equals(plain)).toBe(true);
    });
    it(`${which}: refuses truncated input`, async () => {
      await expect(decode(twoFrames.subarray(0, twoFrames.length - 100), pureJs)).rejects.toThrow();
    });
  }
  it('libzstd: refuses garbage', async () => {
    await expect(decode(Buffer.from('definitely not zstd'), false)).rejects.toThrow(/zstd/);
  });
});
