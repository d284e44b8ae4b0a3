import { mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { overlayMountData, MOUNT_DATA_MAX } from '../../../src/image/overlay.js';
import { sha, tempDir } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });

/** A store holding `n` (empty) complete layers; returns their diff-ids. */
function fakeStore(n: number): { store: string; ids: string[] } {
  const t = tempDir();
  cleanups.push(t.cleanup);
  mkdirSync(`${t.dir}/l`);
  const ids = Array.from({ length: n }, (_, i) => sha(`layer ${i}`));
  for (const id of ids) {
    const dir = `${t.dir}/layers/${id.slice(7)}`;
    mkdirSync(`${dir}/root`, { recursive: true });
    writeFileSync(`${dir}/layer.json`, '{}');
  }
  return { store: t.dir, ids };
}

describe('overlayMountData', () => {
  it('names lowers top first by short links relative to <store>/l', () => {
    const { store, ids } = fakeStore(2);
    const m = overlayMountData(store, ids, { upperDir: '/run/c/upper', workDir: '/run/c/work' });
    expect(m.chdir).toBe(`${store}/l`);
    const short = ids.map((d) => d.slice(7, 19));
    expect(m.data).toBe(`lowerdir=${short[1]}:${short[0]},upperdir=/run/c/upper,workdir=/run/c/work`);
    expect(readlinkSync(`${store}/l/${short[0]}`)).toBe(`../layers/${ids[0]!.slice(7)}/root`);
  });

  it('fits 250 layers in one page', () => {
    const { store, ids } = fakeStore(250);
    const m = overlayMountData(store, ids, { upperDir: '/run/tsrun/containers/some-long-container-id/upper', workDir: '/run/tsrun/containers/some-long-container-id/work' });
    expect(m.data.length).toBeLessThanOrEqual(MOUNT_DATA_MAX);
  });

  it('refuses paths overlayfs would split, and missing layers', () => {
    const { store, ids } = fakeStore(1);
    expect(() => overlayMountData(store, ids, { upperDir: '/a,b', workDir: '/w' })).toThrow(/may not contain/);
    expect(() => overlayMountData(store, [sha('absent')])).toThrow(/not in the store/);
  });
});
