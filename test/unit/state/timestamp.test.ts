import { describe, expect, it } from 'vitest';
import { utcTimestamp } from '../../../src/state/timestamp.js';

describe('utcTimestamp', () => {
  it('writes what Date#toISOString writes', () => {
    const fixed = [0, 1, 999, 86_399_999, 86_400_000, 951_782_400_000 /* 2000-02-29 */, 4_107_542_399_999 /* 2100-02-28 */,
      -1, -86_400_001, 253_402_300_799_999 /* 9999-12-31 */, Date.now()];
    for (const ms of fixed) expect(utcTimestamp(ms), String(ms)).toBe(new Date(ms).toISOString());
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * 253_402_300_799_999);
      expect(utcTimestamp(ms), String(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
