// An interrupted blob download resumes with a Range request where it stopped. Between tsrun and a
// real registry sits a small proxy of the test's (127.0.0.1) that passes requests on and, for the
// first request of a blob, sends the full Content-Length but cuts the connection halfway through.
import { mkdtempSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullImage, type PullEvent } from '../../../src/image/registry/pull.js';
import { LayerStore } from '../../../src/image/layer-store.js';
import { SAMPLE } from './images.js';
import { startRegistry, type RunningRegistry } from './registry-server.js';

type Mode = 'cut-once' | 'cut-always' | 'ignore-range';

let work: string;
let reg: RunningRegistry;
let proxy: Server;
let proxyHost: string;
let mode: Mode = 'cut-once';
const seen: { path: string; range?: string }[] = [];
const cut = new Set<string>();

/** Blob GETs of the big layer are the ones worth cutting (the config is a few hundred bytes). */
const isBigBlob = (path: string, length: number): boolean => path.includes('/blobs/') && length > 50_000;

beforeAll(async () => {
  work = mkdtempSync(`${tmpdir()}/tsrun-pull-resume-`);
  reg = await startRegistry();
  await reg.push(`oci:${SAMPLE}:latest`, 'busybox:latest');
  proxy = createServer((req, res) => {
    const path = req.url ?? '/';
    const headers = { ...req.headers, host: reg.host };
    if (mode === 'ignore-range') delete headers.range;
    seen.push({ path, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const up = request({ host: '127.0.0.1', port: reg.port, path, method: req.method, headers }, (upRes) => {
      const length = Number(upRes.headers['content-length'] ?? 0);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      const cutThis = (upRes.statusCode === 200 || upRes.statusCode === 206) && isBigBlob(path, length) && (mode === 'cut-always' || (mode !== 'ignore-range' && !cut.has(path)));
      if (!cutThis) { upRes.pipe(res); return; }
      cut.add(path);
      const half = Math.floor(length / 2);
      let sent = 0;
      upRes.on('data', (c: Buffer) => {
        if (sent >= half) return;
        const part = c.subarray(0, half - sent);
        sent += part.length;
        res.write(part);
        if (sent >= half) setTimeout(() => { res.socket?.destroy(); upRes.destroy(); }, 20);
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyHost = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  if (proxy) await new Promise<void>((r) => { proxy.closeAllConnections(); proxy.close(() => r()); });
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const env = (): NodeJS.ProcessEnv => ({ HOME: `${work}/home`, XDG_CONFIG_HOME: `${work}/config` });

describe('an interrupted blob download', () => {
  it('resumes with Range from where the connection broke; the layer is whole and verified', async () => {
    mode = 'cut-once';
    seen.length = 0;
    const events: PullEvent[] = [];
    const store = `${work}/s1`;
    const rec = await pullImage(`${proxyHost}/busybox:latest`, { store, env: env(), onProgress: (e) => events.push(e) });
    const resumed = events.find((e) => e.type === 'layer' && e.state === 'resuming');
    expect(resumed).toBeDefined();
    const at = resumed!.type === 'layer' ? resumed!.bytes : 0;
    expect(at).toBeGreaterThan(100_000);
    const blobPath = `/v2/busybox/blobs/${rec.layers[0]!.digest}`;
    expect(seen.filter((s) => s.path === blobPath)).toEqual([{ path: blobPath }, { path: blobPath, range: `bytes=${at}-` }]);
    expect(new LayerStore(store).has(rec.layers[0]!.diffId)).toBe(true);
  });

  it('a registry that ignores Range: read again from the start, the bytes already had skipped', async () => {
    // The first request is cut; the resumed one then reaches the registry without its Range header.
    cut.clear();
    mode = 'cut-once';
    const store = `${work}/s2`;
    let switched = false;
    const rec = await pullImage(`${proxyHost}/busybox:latest`, {
      store, env: env(),
      onProgress: (e) => { if (e.type === 'layer' && e.state === 'resuming' && !switched) { switched = true; mode = 'ignore-range'; } },
    });
    expect(switched).toBe(true);
    expect(new LayerStore(store).has(rec.layers[0]!.diffId)).toBe(true);
  });

  it('a connection that breaks every time: a truncated-blob error after the retries, nothing left behind', async () => {
    mode = 'cut-always';
    const store = `${work}/s3`;
    await expect(pullImage(`${proxyHost}/busybox:latest`, { store, env: env(), maxResumes: 2 })).rejects.toThrow(
      new RegExp(`^pull ${proxyHost}/busybox:latest: blob sha256:[a-f0-9]{64}: truncated: \\d+ of \\d+ bytes after 2 resumed attempts`));
    expect(existsSync(`${store}/images`) ? readdirSync(`${store}/images`) : []).toEqual([]);
    expect(existsSync(`${store}/tmp`) ? readdirSync(`${store}/tmp`) : []).toEqual([]);
  });
});
