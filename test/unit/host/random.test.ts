// host/random.ts: the unpredictable part of temp-file names and generated ids, without Web Crypto
// (whose first use loads Node's crypto modules: into the startup snapshot, or ~3 ms at run time),
// drawn from a pool read from /dev/urandom, never while the startup snapshot is built.
import * as fs from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const opens = vi.hoisted(() => ({ urandom: 0, building: false }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return {
    ...real,
    openSync: (path: fs.PathLike, ...rest: unknown[]) => {
      if (path === '/dev/urandom') opens.urandom++;
      return (real.openSync as (...a: unknown[]) => number)(path, ...rest);
    },
  };
});
vi.mock('node:v8', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:v8')>();
  return { ...real, startupSnapshot: { ...real.startupSnapshot, isBuildingSnapshot: () => opens.building } };
});
const { randomHex } = await import('../../../src/host/random.js');

afterEach(() => { opens.building = false; });

describe('randomHex', () => {
  it('gives 2 hex characters a byte, different each time, also across refills of the pool', () => {
    const seen = new Set(Array.from({ length: 500 }, () => randomHex(8)));
    for (const s of seen) expect(s).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.size).toBe(500);
    expect(randomHex(4)).toMatch(/^[0-9a-f]{8}$/);
    expect(randomHex(1000)).toMatch(/^[0-9a-f]{2000}$/);
  });

  it('reads /dev/urandom once per 256 bytes handed out', () => {
    randomHex(256); // starts a pool of its own
    const before = opens.urandom;
    for (let i = 0; i < 64; i++) randomHex(8);
    expect(opens.urandom - before).toBe(2);
  });

  it('while the startup snapshot is built, every name is read fresh (a pool would go into the blob)', () => {
    opens.building = true;
    const before = opens.urandom;
    for (let i = 0; i < 5; i++) randomHex(8);
    expect(opens.urandom - before).toBe(5);
  });
});
