// Kept upper layers (--keep-upper): where they go in the store, and that no two containers share one.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { finishKeptUpper, makeKeptUpperDir } from '../../../src/image/kept-uppers.js';
import type { ImageRootfs } from '../../../src/image/rootfs.js';
import { sha, tempDir } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });
function tmp(): string { const t = tempDir(); cleanups.push(t.cleanup); return t.dir; }

const rootfs = { id: sha('image'), diffIds: [sha('a'), sha('b')] } as ImageRootfs;
const now = new Date('2024-05-01T12:34:56.789Z');

describe('kept upper layers', () => {
  it('go to <store>/uppers/<id>-<UTC time>, with what they lie on', () => {
    const store = tmp();
    const dir = makeKeptUpperDir(store, 'web-1', rootfs, now);
    expect(dir).toBe(`${store}/uppers/web-1-20240501T123456Z`);
    expect(dir).not.toMatch(/[,:]/); // overlayfs' option separators
    expect(JSON.parse(readFileSync(`${dir}/upper.json`, 'utf8'))).toEqual({
      container: 'web-1', created: '2024-05-01T12:34:56.789Z', image: rootfs.id, diffIds: rootfs.diffIds,
    });
  });

  it('never reuse a directory: the same id in the same second gets .2, .3', () => {
    const store = tmp();
    const dirs = [1, 2, 3].map(() => makeKeptUpperDir(store, 'c', rootfs, now));
    expect(dirs.map((d) => d.slice(store.length))).toEqual(['/uppers/c-20240501T123456Z', '/uppers/c-20240501T123456Z.2', '/uppers/c-20240501T123456Z.3']);
  });

  it('lose their work dir when the container is gone, and keep the upper dir', () => {
    const store = tmp();
    const dir = makeKeptUpperDir(store, 'c', rootfs, now);
    mkdirSync(`${dir}/upper/etc`, { recursive: true });
    mkdirSync(`${dir}/work/work`, { recursive: true, mode: 0 }); // as overlayfs leaves it
    expect(finishKeptUpper(dir)).toBe(`${dir}/upper`);
    expect(existsSync(`${dir}/work`)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['upper', 'upper.json']);
  });
});
