// The image store lock and container references: a prune waits for an import or anyone holding the
// lock, and keeps the layers of containers whose image was removed, for as long as they exist.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { importImage } from '../../../src/image/import.js';
import { imageRootfs } from '../../../src/image/rootfs.js';
import { LayerStore } from '../../../src/image/layer-store.js';
import { ImageStore } from '../../../src/image/image-store.js';
import { pruneLayers, removeImage } from '../../../src/image/manage.js';
import { containerRefPath, liveContainerRefs, removeContainerRef } from '../../../src/image/container-refs.js';
import { withStoreLock } from '../../../src/image/store-lock.js';
import { makeTar, sha, tempDir, writeLayout } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });
function tmp(): string { const t = tempDir(); cleanups.push(t.cleanup); return t.dir; }

const layer = (name: string, bytes = 16) => makeTar([{ name: `${name}/`, type: 'directory' }, { name: `${name}/data`, data: randomBytes(bytes) }]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Settles to true once `p` has settled, so a test can check that it has not yet. */
function settled(p: Promise<unknown>): () => boolean {
  let done = false;
  p.then(() => { done = true; }, () => { done = true; });
  return () => done;
}

describe('prune and live containers', () => {
  it('keeps the layers of a container whose image was removed, until the container is gone', async () => {
    const store = tmp();
    const [a, b] = [await layer('a'), await layer('b')];
    const dir = tmp(); writeLayout(dir, [a, b]);
    const stateDir = `${tmp()}/c1`; // what <root>/<id> is for a real container
    mkdirSync(stateDir);
    const rootfs = await imageRootfs(dir, { store, container: { stateDir, id: 'c1' } });
    expect(rootfs.diffIds).toEqual([sha(a), sha(b)]);
    expect(liveContainerRefs(store).map((r) => [r.id, r.diffIds])).toEqual([['c1', [sha(a), sha(b)]]]);

    await removeImage(store, rootfs.id);
    expect(await pruneLayers(store)).toEqual([]);
    const layers = new LayerStore(store);
    expect(layers.list().sort()).toEqual([sha(a), sha(b)].sort());

    // delete drops the reference; then the layers are unused.
    removeContainerRef(containerRefPath(store, stateDir));
    expect((await pruneLayers(store)).sort()).toEqual([sha(a), sha(b)].sort());
    expect(layers.list()).toEqual([]);
  });

  it('drops the reference of a container whose state is gone (removed by hand, or /run after a reboot)', async () => {
    const store = tmp();
    const a = await layer('a');
    const dir = tmp(); writeLayout(dir, [a]);
    const stateDir = `${tmp()}/gone`;
    mkdirSync(stateDir);
    const rootfs = await imageRootfs(dir, { store, container: { stateDir, id: 'gone' } });
    await removeImage(store, rootfs.id);
    expect(await pruneLayers(store)).toEqual([]);
    cleanups.pop()!(); // the state root is gone, the reference was never removed
    expect(await pruneLayers(store)).toEqual([sha(a)]);
    expect(readdirSync(`${store}/containers`)).toEqual([]);
  });
});

describe('the store lock', () => {
  it('a prune waits while another holds the lock', async () => {
    const store = tmp();
    const dir = tmp(); writeLayout(dir, [await layer('a')]);
    const rec = await importImage(dir, { store });
    await removeImage(store, rec.id);
    let prune: Promise<string[]> | undefined;
    await withStoreLock(store, async () => {
      prune = pruneLayers(store);
      const done = settled(prune);
      await sleep(300);
      expect(done()).toBe(false);
      expect(new LayerStore(store).list()).toEqual([rec.layers[0]!.diffId]);
    });
    expect(await prune!).toEqual([rec.layers[0]!.diffId]);
  });

  it('a prune started during an import waits for it, and never takes its freshly unpacked layers', async () => {
    const store = tmp();
    const dir = tmp();
    const tars = [await layer('a'), await layer('b', 4 << 20), await layer('c', 4 << 20)];
    writeLayout(dir, tars);
    let prune: Promise<string[]> | undefined;
    let pruneDoneDuringImport = false;
    // The first layer is complete but not yet in any image record: the moment a prune would take it.
    const progress = {
      layerStart: () => {}, bytes: () => {},
      layerDone: (i: number) => {
        if (i === 0) prune = pruneLayers(store);
        else if (prune && settled(prune)()) pruneDoneDuringImport = true;
      },
    };
    const rec = await importImage(dir, { store, progress });
    expect(pruneDoneDuringImport).toBe(false);
    expect(await prune!).toEqual([]);
    const layers = new LayerStore(store);
    for (const l of rec.layers) expect(layers.has(l.diffId)).toBe(true);
    expect(new ImageStore(store).get(rec.id).layers.length).toBe(3);
  });

  it('a missing store is not created by prune', async () => {
    const store = `${tmp()}/absent`;
    expect(await pruneLayers(store)).toEqual([]);
    expect(existsSync(store)).toBe(false);
  });
});
