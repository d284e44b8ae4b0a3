// host/random.ts: the unpredictable part of temp-file names and generated ids, without Web Crypto
// (whose first use loads Node's crypto modules: into the startup snapshot, or ~3 ms at run time).
import { describe, expect, it } from 'vitest';
import { randomHex } from '../../../src/host/random.js';

describe('randomHex', () => {
  it('gives 2 hex characters a byte, different each time', () => {
    const seen = new Set(Array.from({ length: 50 }, () => randomHex(8)));
    for (const s of seen) expect(s).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.size).toBe(50);
    expect(randomHex(4)).toMatch(/^[0-9a-f]{8}$/);
  });
});
