// pullImage against a real registry (Debian's docker-registry on 127.0.0.1, plain HTTP: loopback
// needs no configuration), filled with skopeo from the sample images.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullImage, type PullEvent } from '../../../src/image/registry/pull.js';
import { ImageStore } from '../../../src/image/image-store.js';
import { LayerStore } from '../../../src/image/layer-store.js';
import { needsPull } from '../../../src/image/image-arg.js';
import { imageRootfs } from '../../../src/image/rootfs.js';
import { removeDeadScratch } from '../../../src/image/store-lock.js';
import { pruneLayers } from '../../../src/image/manage.js';
import { partialDir } from '../../../src/image/registry/layer-lock.js';
import { buildImages, SAMPLE, sampleDiffIds, type BuiltImages } from './images.js';
import { startRegistry, type RunningRegistry } from './registry-server.js';

let work: string;
let reg: RunningRegistry;
let images: BuiltImages;
/** No registries.json, no auth.json of the host's: a clean environment for each pull. */
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = mkdtempSync(`${tmpdir()}/tsrun-pull-it-`);
  env = { HOME: `${work}/home`, XDG_CONFIG_HOME: `${work}/config` };
  images = buildImages(work);
  reg = await startRegistry();
  await reg.push(`oci:${SAMPLE}:latest`, 'busybox:latest');
  await reg.push(`oci:${images.layout}:latest`, 'multi:latest', ['--all']);
  await reg.push(`oci:${images.layout}:amd64`, 'multi:amd64');
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function freshStore(name: string): string {
  return `${work}/stores/${name}`;
}

/** Nothing half-made in the store: no scratch dir, no layer without its layer.json. */
function expectClean(store: string): void {
  const tmp = `${store}/tmp`;
  expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  const layersDir = `${store}/layers`;
  for (const d of existsSync(layersDir) ? readdirSync(layersDir) : []) expect(existsSync(`${layersDir}/${d}/layer.json`)).toBe(true);
}

describe('pull from a registry into the layer store', () => {
  it('by tag: the record names the full reference, every layer is in the store', async () => {
    const store = freshStore('tag');
    const events: PullEvent[] = [];
    const rec = await pullImage(`${reg.host}/busybox:latest`, { store, env, onProgress: (e) => events.push(e) });
    const manifest = JSON.parse(readFileSync(`${SAMPLE}/index.json`, 'utf8')).manifests[0].digest as string;
    expect(rec.id).toBe(manifest);
    expect(rec.names).toEqual([`${reg.host}/busybox:latest`]);
    expect(rec.pulled).toMatchObject({ repository: `${reg.host}/busybox`, digest: manifest, platform: 'linux/amd64', endpoint: reg.host });
    const layers = new LayerStore(store);
    for (const l of rec.layers) expect(layers.has(l.diffId)).toBe(true);
    // the compressed digest → diff-id mapping is kept with each layer
    expect(layers.info(rec.layers[0]!.diffId).digest).toBe(rec.layers[0]!.digest);
    expect(new ImageStore(store).get(`${reg.host}/busybox`).id).toBe(rec.id);
    const states = events.filter((e) => e.type === 'layer').map((e) => e.type === 'layer' && `${e.index}:${e.state}`);
    expect(states).toContain('0:done');
    expect(states).toContain('1:done');
    expect(events.at(-1)).toMatchObject({ type: 'done', id: rec.id });
    expect(needsPull(`${reg.host}/busybox:latest`, store)).toBe(false);
    expect(needsPull(`${reg.host}/busybox:other`, store)).toBe(true);
    expectClean(store);
  });

  it('a second pull downloads no layer, and offline finds it without the network', async () => {
    const store = freshStore('tag');
    const events: PullEvent[] = [];
    await pullImage(`${reg.host}/busybox:latest`, { store, env, onProgress: (e) => events.push(e) });
    const layerStates = events.filter((e) => e.type === 'layer' && e.state !== 'waiting' && e.state !== 'queued').map((e) => e.type === 'layer' && e.state);
    expect(layerStates).toEqual(['exists', 'exists']);
    expect(events.at(-1)).toMatchObject({ type: 'done', downloaded: 0 });
    const rec = await pullImage(`${reg.host}/busybox:latest`, { store, env: { ...env, TSRUN_OFFLINE: '1' } });
    expect(rec.names).toContain(`${reg.host}/busybox:latest`);
  });

  it('imageRootfs (what run --image uses) pulls a registry reference the store lacks, then finds it', async () => {
    const store = freshStore('rootfs');
    const events: PullEvent[] = [];
    const first = await imageRootfs(`${reg.host}/busybox`, { store, pull: { env, onProgress: (e) => events.push(e) } });
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    expect(first.lowerDirs).toHaveLength(2);
    events.length = 0;
    const again = await imageRootfs(`${reg.host}/busybox:latest`, { store, pull: { env, offline: true, onProgress: (e) => events.push(e) } });
    expect(again.id).toBe(first.id);
    expect(events).toEqual([]);
  });

  it('offline, an image the store lacks fails at once, naming the reference', async () => {
    const store = freshStore('offline');
    await expect(pullImage(`${reg.host}/busybox:latest`, { store, offline: true, env })).rejects.toThrow(
      `pull ${reg.host}/busybox:latest: not in the image store ${store}, and offline (--offline): nothing is downloaded`);
    await expect(pullImage('docker.io/library/debian:12', { store, env: { ...env, TSRUN_OFFLINE: '1' } })).rejects.toThrow(/offline \(TSRUN_OFFLINE\)/);
    expect(existsSync(`${store}/images`)).toBe(false);
  });

  it('by digest, and an index resolved to linux/amd64 or --platform linux/arm64', async () => {
    const store = freshStore('index');
    const byDigest = await pullImage(`${reg.host}/multi@${images.amd64Digest}`, { store, env });
    expect(byDigest.id).toBe(images.amd64Digest);
    expect(byDigest.names).toEqual([`${reg.host}/multi@${images.amd64Digest}`]);
    expect(byDigest.layers).toHaveLength(5);
    const amd = await pullImage(`${reg.host}/multi:latest`, { store, env });
    expect(amd.id).toBe(images.amd64Digest);
    expect(amd.pulled).toMatchObject({ digest: images.indexDigest, platform: 'linux/amd64' });
    const arm = await pullImage(`${reg.host}/multi:latest`, { store, env, platform: 'linux/arm64' });
    expect(arm.id).toBe(images.arm64Digest);
    expect(arm.config.architecture).toBe('arm64');
    expect(needsPull(`${reg.host}/multi@${images.indexDigest}`, store)).toBe(false);
    await expect(pullImage(`${reg.host}/multi:latest`, { store, env, platform: 'linux/s390x' })).rejects.toThrow(
      `pull ${reg.host}/multi:latest: no linux/s390x image in the index (it has linux/amd64, linux/arm64); choose one with --platform`);
  });

  it('docker v2 schema 2 manifests and a docker manifest list (skopeo --format v2s2)', async () => {
    // docker manifests know no zstd: a gzip copy of the layout first (skopeo 1.9 cannot do both at once).
    execFileSync('skopeo', ['copy', '--quiet', '--all', '--dest-compress', '--dest-compress-format', 'gzip', `oci:${images.layout}:latest`, `oci:${work}/gz:latest`], { stdio: 'pipe' });
    await reg.push(`oci:${work}/gz:latest`, 'dockerfmt:latest', ['--all', '--format', 'v2s2']);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/dockerfmt:latest`], { encoding: 'utf8' })) as { mediaType: string };
    expect(raw.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
    const rec = await pullImage(`${reg.host}/dockerfmt:latest`, { store: freshStore('dockerfmt'), env, platform: 'linux/arm64' });
    expect(rec.config.architecture).toBe('arm64');
    expect(rec.layers.map((l) => l.mediaType)).toEqual(Array(3).fill('application/vnd.docker.image.rootfs.diff.tar.gzip'));
  });

  it('unknown image, unknown tag, unknown digest: one line naming the reference', async () => {
    const store = freshStore('unknown');
    await expect(pullImage(`${reg.host}/nosuch:latest`, { store, env })).rejects.toThrow(
      `pull ${reg.host}/nosuch:latest: image not found: ${reg.host}/nosuch does not exist (or needs a login)`);
    await expect(pullImage(`${reg.host}/busybox:nosuch`, { store, env })).rejects.toThrow(
      `pull ${reg.host}/busybox:nosuch: tag 'nosuch' not found in ${reg.host}/busybox (tags: latest)`);
    const d = `sha256:${'0'.repeat(64)}`;
    await expect(pullImage(`${reg.host}/busybox@${d}`, { store, env })).rejects.toThrow(`manifest ${d} not found in ${reg.host}/busybox`);
    expect(existsSync(`${store}/images`)).toBe(false);
  });

  it('a registry that is not there: connection refused, named', async () => {
    await expect(pullImage('127.0.0.1:1/busybox', { store: freshStore('refused'), env })).rejects.toThrow(
      'pull 127.0.0.1:1/busybox:latest: cannot connect to 127.0.0.1:1: connection refused');
  });

  it('a mirror from registries.json serves the image of a registry that is down', async () => {
    const config = `${work}/mirror-conf.json`;
    writeFileSync(config, JSON.stringify({ registries: [{ location: '127.0.0.1:1', mirrors: [{ location: '127.0.0.1:2' }, { location: reg.host }] }] }));
    const events: PullEvent[] = [];
    const rec = await pullImage('127.0.0.1:1/busybox:latest', { store: freshStore('mirror'), env: { ...env, TSRUN_REGISTRIES_CONF: config }, onProgress: (e) => events.push(e) });
    expect(rec.names).toEqual(['127.0.0.1:1/busybox:latest']);
    expect(rec.pulled?.endpoint).toBe(reg.host);
    expect(events[0]).toMatchObject({ type: 'manifest', endpoint: reg.host });
  });

  it('an import or prune during a pull (they clear <store>/tmp) leaves its layers alone; a dead pull\'s partial layer is cleared', async () => {
    const store = freshStore('with-import');
    // What a dead pull of the first layer left, and junk where imports' scratch dirs go.
    const base = sampleDiffIds()[0]!;
    const leftover = partialDir(store, base);
    mkdirSync(`${leftover}/root/junk`, { recursive: true });
    let cleared = 0;
    const rec = await pullImage(`${reg.host}/busybox:latest`, {
      store, env,
      // An import starting meanwhile removes every scratch dir under <store>/tmp (store-lock.ts).
      onProgress: (e) => { if (e.type === 'layer' && e.state === 'downloading' && e.bytes > 0) { void removeDeadScratch(store); cleared++; } },
    });
    expect(cleared).toBeGreaterThan(0);
    const layers = new LayerStore(store);
    expect(rec.layers.every((l) => layers.has(l.diffId))).toBe(true);
    expect(existsSync(`${layers.rootOf(base)}/junk`)).toBe(false);
    expect(readdirSync(`${store}/partial`)).toEqual([]);
    // a leftover of a dead pull goes with prune too
    mkdirSync(`${leftover}/root`, { recursive: true });
    await pruneLayers(store);
    expect(readdirSync(`${store}/partial`)).toEqual([]);
  });

  it('two concurrent pulls of one image share the work: each layer is downloaded once', async () => {
    const store = freshStore('concurrent');
    const a: PullEvent[] = [];
    const b: PullEvent[] = [];
    const [ra, rb] = await Promise.all([
      pullImage(`${reg.host}/multi:amd64`, { store, env, onProgress: (e) => a.push(e) }),
      pullImage(`${reg.host}/multi:amd64`, { store, env, onProgress: (e) => b.push(e) }),
    ]);
    expect(ra.id).toBe(rb.id);
    const done = (ev: PullEvent[]): number[] => ev.flatMap((e) => (e.type === 'layer' && e.state === 'done' ? [e.index] : []));
    const exists = (ev: PullEvent[]): number[] => ev.flatMap((e) => (e.type === 'layer' && e.state === 'exists' ? [e.index] : []));
    // every layer downloaded by exactly one of the two, and found by the other
    expect([...done(a), ...done(b)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...exists(a), ...exists(b)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(new ImageStore(store).list()).toHaveLength(1);
    expectClean(store);
  });

  it('a corrupted blob in the registry is refused as a digest mismatch, and nothing of it is kept', async () => {
    const corrupt = `${work}/corrupt`;
    execFileSync('cp', ['-a', images.layout, corrupt]);
    await reg.push(`oci:${corrupt}:amd64`, 'corrupt:latest');
    const rec = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/corrupt:latest`], { encoding: 'utf8' })) as { layers: { digest: string }[] };
    // Bytes flipped in the first layer's blob (1 MiB of gzip) as the registry stores it; the registry
    // shares blobs between repositories, so it is put back at the end. In the middle, the blob's digest
    // fails first (gunzip sees it only at the CRC); at the start, gunzip fails at once, before the
    // digest is known: the pull then fetches the blob again, only to hash it, and says what it is.
    const layer = rec.layers[0]!.digest;
    const file = reg.blobFile(layer);
    const saved = readFileSync(file);
    const store = freshStore('corrupt');
    const mismatch = new RegExp(`^pull ${reg.host}/corrupt:latest: blob ${layer}(?: \\(layer sha256:[a-f0-9]{64}\\))?: digest mismatch \\(content is sha256:[a-f0-9]{64}\\)$`);
    try {
      for (const at of [Math.floor(saved.length / 2), 0]) {
        const bad = Buffer.from(saved);
        bad[at]! ^= 0xff;
        writeFileSync(file, bad);
        await expect(pullImage(`${reg.host}/corrupt:latest`, { store, env })).rejects.toThrow(mismatch);
        expect(existsSync(`${store}/images`) ? readdirSync(`${store}/images`) : []).toEqual([]);
        expectClean(store);
      }
      // a truncated blob: shorter than its descriptor
      writeFileSync(file, saved.subarray(0, saved.length - 10));
      await expect(pullImage(`${reg.host}/corrupt:latest`, { store, env, maxResumes: 1 })).rejects.toThrow(new RegExp(`^pull ${reg.host}/corrupt:latest: blob ${layer}.*truncated`));
      expectClean(store);
    } finally {
      writeFileSync(file, saved);
    }
  });
});
