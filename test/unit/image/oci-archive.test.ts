// An OCI archive (a tar of an OCI image layout, as skopeo's `oci-archive:` writes: oci-layout,
// index.json and blobs/, no manifest.json) is imported like the layout it holds (issue 13: it was
// refused with "manifest.json is missing"). The blobs are read in place from the tar.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { importImage } from '../../../src/image/import.js';
import { LayerStore } from '../../../src/image/layer-store.js';
import { makeTar, sha, tempDir, writeLayout } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });
function tmp(): string { const t = tempDir(); cleanups.push(t.cleanup); return t.dir; }

const layer = () => makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hostname', data: 'from-archive\n' }]);

describe('OCI archives', () => {
  it('imports a tar of an OCI layout: the same image as the layout, named by its ref.name', async () => {
    const dir = tmp();
    const l = await layer();
    const d = writeLayout(dir, [l], { tag: 'myapp:1.0' });
    const archive = `${tmp()}/app.oci.tar`;
    execFileSync('tar', ['-C', dir, '-cf', archive, 'oci-layout', 'index.json', 'blobs']);
    const store = tmp();
    const rec = await importImage(archive, { store });
    expect(rec.id).toBe(d.manifest);
    expect(rec.names).toEqual(['myapp:1.0']);
    expect(rec.layers.map((x) => x.diffId)).toEqual([sha(l)]);
    expect(new LayerStore(store).has(sha(l))).toBe(true);
    expect(readdirSync(`${store}/tmp`)).toEqual([]);
  });

  it('a gzipped one, with ./ member names, and a bare tag named after the file', async () => {
    const dir = tmp();
    writeLayout(dir, [await layer()], { tag: 'v2' });
    const archive = `${tmp()}/thing.tar.gz`;
    execFileSync('tar', ['-C', dir, '-czf', archive, '.']);
    const rec = await importImage(`${archive}:v2`, { store: tmp() });
    expect(rec.names).toEqual(['thing:v2']);
  });

  it('checks blobs against their digests as a layout does', async () => {
    const dir = tmp();
    const d = writeLayout(dir, [await layer()]);
    writeFileSync(`${dir}/blobs/sha256/${d.layers[0]!.slice(7)}`, 'not the layer');
    const archive = `${tmp()}/bad.tar`;
    execFileSync('tar', ['-C', dir, '-cf', archive, '.']);
    const store = tmp();
    await expect(importImage(archive, { store })).rejects.toThrow(new RegExp(`${d.layers[0]}`));
    expect(new LayerStore(store).list()).toEqual([]);
  });

  it('a tar that is neither a docker nor an OCI archive says what it lacks', async () => {
    const dir = tmp();
    writeFileSync(`${dir}/hello`, 'x');
    const archive = `${tmp()}/plain.tar`;
    execFileSync('tar', ['-C', dir, '-cf', archive, 'hello']);
    const store = tmp();
    await expect(importImage(archive, { store })).rejects.toThrow(/plain\.tar: neither a docker archive \(manifest\.json\) nor an OCI archive \(oci-layout, index\.json\)/);
    expect(existsSync(`${store}/tmp`) ? readdirSync(`${store}/tmp`) : []).toEqual([]);
  });
});
