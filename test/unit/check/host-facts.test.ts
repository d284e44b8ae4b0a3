import { describe, expect, it } from 'vitest';
import { splitDeviceNumber } from '../../../src/check/host-facts.js';

describe('splitDeviceNumber', () => {
  it('splits st_rdev like glibc major()/minor()', () => {
    expect(splitDeviceNumber(0x502)).toEqual({ major: 5, minor: 2 });
    // loop-control, 10:237
    expect(splitDeviceNumber((10 << 8) | 237)).toEqual({ major: 10, minor: 237 });
    // minor numbers above 255 keep their high bits above the major: 259:300 (NVMe partitions)
    expect(splitDeviceNumber((259 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12))).toEqual({ major: 259, minor: 300 });
  });
});
