import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { importImage } from '../../../src/image/import.js';
import { openOciLayout } from '../../../src/image/oci-layout.js';
import { LayerStore } from '../../../src/image/layer-store.js';
import { ImageStore } from '../../../src/image/image-store.js';
import { pruneLayers, removeImage } from '../../../src/image/manage.js';
import { makeTar, sha, tempDir, writeLayout } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });
function tmp(): string { const t = tempDir(); cleanups.push(t.cleanup); return t.dir; }

const base = () => makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hostname', data: 'base\n' }]);
const top = () => makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hostname', data: 'top\n' }]);

/** Nothing of a failed import may look like a layer: no layer dir, no scratch dir left. */
function expectNoLayers(store: string): void {
  expect(new LayerStore(store).list()).toEqual([]);
  expect(existsSync(`${store}/tmp`) ? readdirSync(`${store}/tmp`) : []).toEqual([]);
}

describe('OCI layout reading', () => {
  it('selects a manifest by ref.name and lists layers bottom first', async () => {
    const dir = tmp();
    const [b, t] = [await base(), await top()];
    const d = writeLayout(dir, [b, t], { tag: 'v1' });
    const img = await openOciLayout(dir, 'v1');
    expect(img.id).toBe(d.manifest);
    expect(img.layers.map((l) => l.diffId)).toEqual([sha(b), sha(t)]);
    expect(img.layers[0]!.compression).toBe('gzip');
    await expect(openOciLayout(dir, 'nope')).rejects.toThrow(/no image tagged 'nope' \(tags: v1\)/);
  });

  it('follows an image index to the linux/amd64 manifest', async () => {
    const dir = tmp();
    const d = writeLayout(dir, [await base()], { nestedIndex: true });
    expect((await openOciLayout(dir)).id).toBe(d.manifest);
  });

  it('names the blob on a missing blob and on an unknown media type', async () => {
    const dir = tmp();
    const d = writeLayout(dir, [await base()]);
    await expect(openOciLayout(dir)).resolves.toBeDefined();
    const store = tmp();
    execFileSync('rm', [`${dir}/blobs/sha256/${d.layers[0]!.slice(7)}`]);
    await expect(importImage(dir, { store })).rejects.toThrow(new RegExp(`blob ${d.layers[0]} is missing`));

    const dir2 = tmp();
    const d2 = writeLayout(dir2, [await base()], { mediaType: 'application/x-weird' });
    await expect(openOciLayout(dir2)).rejects.toThrow(new RegExp(`blob ${d2.layers[0]}: unknown layer media type`));
  });
});

describe('digest verification', () => {
  it('refuses a layer blob whose content does not match its digest, keeping nothing', async () => {
    const dir = tmp();
    const store = tmp();
    const d = writeLayout(dir, [await base()]);
    const path = `${dir}/blobs/sha256/${d.layers[0]!.slice(7)}`;
    const blob = readFileSync(path);
    blob[blob.length - 5]! ^= 0xff; // corrupts the gzip trailer area, still same size
    writeFileSync(path, blob);
    await expect(importImage(dir, { store })).rejects.toThrow(new RegExp(d.layers[0]!));
    expectNoLayers(store);
    expect(new ImageStore(store).list()).toEqual([]);
  });

  it('refuses a layer whose uncompressed content does not match its diff_id', async () => {
    const dir = tmp();
    const store = tmp();
    const b = await base();
    // A config whose diff_id does not belong to the (correctly digested) layer blob.
    const cfg = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha('other')] } };
    const good = writeLayout(dir, [b]);
    const manifestPath = `${dir}/blobs/sha256/${good.manifest.slice(7)}`;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const cfgBuf = Buffer.from(JSON.stringify(cfg));
    writeFileSync(`${dir}/blobs/sha256/${sha(cfgBuf).slice(7)}`, cfgBuf);
    manifest.config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(cfgBuf), size: cfgBuf.length };
    const mBuf = Buffer.from(JSON.stringify(manifest));
    writeFileSync(`${dir}/blobs/sha256/${sha(mBuf).slice(7)}`, mBuf);
    writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(mBuf), size: mBuf.length }] }));
    await expect(importImage(dir, { store })).rejects.toThrow(/diff_id sha256:[0-9a-f]+: digest mismatch/);
    expectNoLayers(store);
  });

  it('checks uncompressed layers read in place: corrupted or longer than declared', async () => {
    const tar = 'application/vnd.oci.image.layer.v1.tar';
    const good = tmp();
    writeLayout(good, [await base()], { mediaType: tar });
    const store = tmp();
    await importImage(good, { store });
    expect(readFileSync(`${new LayerStore(store).rootOf(sha(await base()))}/etc/hostname`, 'utf8')).toBe('base\n');

    for (const damage of ['flip', 'append'] as const) {
      const dir = tmp();
      const d = writeLayout(dir, [await base()], { mediaType: tar });
      const path = `${dir}/blobs/sha256/${d.layers[0]!.slice(7)}`;
      const blob = readFileSync(path);
      if (damage === 'flip') blob[700]! ^= 0x01; // inside the first file's data
      writeFileSync(path, damage === 'append' ? Buffer.concat([blob, Buffer.alloc(512)]) : blob);
      const s = tmp();
      await expect(importImage(dir, { store: s })).rejects.toThrow(new RegExp(d.layers[0]!.slice(7)));
      expectNoLayers(s);
    }
  });

  it('checks a big uncompressed layer read in place (hashed on the worker): content intact, a flipped byte refused', async () => {
    // > 16 MiB, so hashed off-thread from the ring slots the layer is read into (more chunks than slots).
    const files = Array.from({ length: 24 }, (_, i) => ({ name: `d/f${i}`, data: Buffer.alloc((1 << 20) - 100 + i * 37, i + 1) }));
    const big = await makeTar(files);
    const tar = 'application/vnd.oci.image.layer.v1.tar';
    const dir = tmp();
    const d = writeLayout(dir, [big], { mediaType: tar });
    const store = tmp();
    await importImage(dir, { store });
    const root = new LayerStore(store).rootOf(sha(big));
    for (const f of files) expect(readFileSync(`${root}/${f.name}`).equals(f.data)).toBe(true);

    const path = `${dir}/blobs/sha256/${d.layers[0]!.slice(7)}`;
    const blob = readFileSync(path);
    blob[20 << 20]! ^= 0x01; // in a file's data, in the 21st chunk
    writeFileSync(path, blob);
    const s = tmp();
    await expect(importImage(dir, { store: s })).rejects.toThrow(new RegExp(`${d.layers[0]!.slice(7)}: digest mismatch`));
    expectNoLayers(s);
  });

  it('refuses a manifest blob that was swapped', async () => {
    const dir = tmp();
    const d = writeLayout(dir, [await base()]);
    writeFileSync(`${dir}/blobs/sha256/${d.manifest.slice(7)}`, '{"schemaVersion":2}');
    await expect(openOciLayout(dir)).rejects.toThrow(new RegExp(`blob ${d.manifest}: size`));
  });
});

describe('layer store and image records', () => {
  it('unpacks shared layers once, records images, prunes unreferenced layers', async () => {
    const store = tmp();
    const [b, t] = [await base(), await top()];
    const one = tmp(); writeLayout(one, [b]);
    const two = tmp(); writeLayout(two, [b, t]);
    const r1 = await importImage(one, { store });
    const layers = new LayerStore(store);
    const before = layers.info(sha(b)).importedAt;
    const r2 = await importImage(two, { store });
    expect(layers.info(sha(b)).importedAt).toBe(before); // not unpacked again
    expect(readFileSync(`${layers.rootOf(sha(t))}/etc/hostname`, 'utf8')).toBe('top\n');
    expect(new ImageStore(store).list().map((r) => r.id).sort()).toEqual([r1.id, r2.id].sort());
    const named = await importImage(two, { store, name: 'extra:1' });
    expect((await removeImage(store, 'extra:1')).untagged).toBe('extra:1'); // another name remains: untag only
    expect(new ImageStore(store).get(named.id).names).not.toContain('extra:1');
    await removeImage(store, r2.id);
    expect(await pruneLayers(store)).toEqual([sha(t)]);
    expect(layers.list()).toEqual([sha(b)]);
  });

  it('imports zstd layers', async () => {
    let zstd: (b: Buffer) => Buffer;
    try {
      execFileSync('zstd', ['--version']);
      zstd = (b) => execFileSync('zstd', ['-q', '-c'], { input: b });
    } catch {
      return; // no zstd CLI to make the fixture
    }
    const dir = tmp();
    const store = tmp();
    const b = await base();
    writeLayout(dir, [b], { mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', compress: zstd });
    await importImage(dir, { store });
    expect(readFileSync(`${new LayerStore(store).rootOf(sha(b))}/etc/hostname`, 'utf8')).toBe('base\n');
  });

  it('imports a gzipped docker archive', async () => {
    const store = tmp();
    const work = tmp();
    const b = await base();
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(b)] } }));
    const cfgName = `${sha(cfg).slice(7)}.json`;
    const archive = await makeTar([
      { name: 'abc/layer.tar', data: b },
      { name: cfgName, data: cfg },
      { name: 'manifest.json', data: JSON.stringify([{ Config: cfgName, RepoTags: ['demo:1'], Layers: ['abc/layer.tar'] }]) },
    ]);
    writeFileSync(`${work}/demo.tar.gz`, (await import('node:zlib')).gzipSync(archive));
    const rec = await importImage(`${work}/demo.tar.gz`, { store });
    expect(rec.names).toEqual(['demo:1']);
    expect(rec.id).toBe(sha(cfg));
    expect(readFileSync(`${new LayerStore(store).rootOf(sha(b))}/etc/hostname`, 'utf8')).toBe('base\n');
    expect(readdirSync(`${store}/tmp`)).toEqual([]); // the inflated copy is gone
  });
});
