// The command line against a real registry: `tsrun image pull` (progress lines, --quiet, --platform,
// --offline), `tsrun run --image localhost:PORT/busybox:latest` end to end (pulled through the full
// bundle the first time, served by the startup snapshot once in the store), and a pulled image's
// tree equal to `umoci unpack` of `skopeo copy` of the same reference.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../../src/image/image-store.js';
import { rootfsOfRecord } from '../../../src/image/rootfs.js';
import { listTree, mergedTreeOf } from '../../helpers/image-tree.js';
import { buildImages, REPO, SAMPLE, type BuiltImages } from './images.js';
import { startRegistry, type RunningRegistry } from './registry-server.js';

const TSRUN = `${REPO}bin/tsrun`;

let work: string;
let reg: RunningRegistry;
let images: BuiltImages;
let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  work = mkdtempSync(`${tmpdir()}/tsrun-pull-cli-`);
  root = `${work}/state`;
  images = buildImages(work);
  reg = await startRegistry();
  await reg.push(`oci:${SAMPLE}:latest`, 'busybox:latest');
  await reg.push(`oci:${images.layout}:latest`, 'multi:latest', ['--all']);
  await reg.push(`oci:${images.layout}:amd64`, 'multi:amd64');
  // No registries.json or auth.json of the host's; the host's environment otherwise.
  env = { ...process.env, HOME: `${work}/home`, XDG_CONFIG_HOME: `${work}/config` };
  delete env.TSRUN_OFFLINE;
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function tsrun(args: string[], extraEnv: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(TSRUN, args, { env: { ...env, ...extraEnv }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tsrun run --image of a registry reference', () => {
  it('pulls it (full bundle, progress on stderr) and runs it; the second run is served by the snapshot', () => {
    const store = `${work}/run-store`;
    const ref = `${reg.host}/busybox:latest`;
    const first = tsrun(['--root', root, '--debug', 'run', '--store', store, '--image', ref, '--', 'cat /etc/hostname; ls /data']);
    expect(first.stderr).toContain('not in the startup snapshot, running dist/snapshot/full.cjs');
    expect(first.stderr).toContain(`pulling ${ref} from ${reg.host}: manifest sha256:`);
    expect(first.stderr).toMatch(/^layer 1\/2 [0-9a-f]{12}: downloading 1004\.9 KiB$/m);
    expect(first.stderr).toMatch(/^layer 1\/2 [0-9a-f]{12}: done  1004\.9 KiB  [0-9.]+ [KMG]?i?B\/s$/m);
    expect(first.stderr).toMatch(new RegExp(`^${ref}: sha256:[0-9a-f]{64} \\(1005\\.1 KiB downloaded in [0-9.]+ s\\)$`, 'm'));
    expect(first.stdout).toBe('top\nnew\n');
    expect(first.status).toBe(0);
    const second = tsrun(['--root', root, '--debug', 'run', '--store', store, '--image', ref, '--', 'cat /etc/hostname']);
    expect(second.stderr).not.toContain('not in the startup snapshot');
    expect(second.stderr).not.toContain('pulling');
    expect(second.stdout).toBe('top\n');
    expect(second.status).toBe(0);
    // the short form as docker reads it finds the same image
    expect(tsrun(['--root', root, 'run', '--store', store, '--image', `${reg.host}/busybox`, '--', 'true']).status).toBe(0);
  });

  it('offline (TSRUN_OFFLINE=1), an image the store lacks fails at once with exit 125 and nothing left', () => {
    const store = `${work}/offline-store`;
    const r = tsrun(['--root', root, 'run', '--store', store, '--image', `${reg.host}/multi:amd64`, '--', 'true'], { TSRUN_OFFLINE: '1' });
    expect(r.stderr).toBe(`tsrun: pull ${reg.host}/multi:amd64: not in the image store ${store}, and offline (TSRUN_OFFLINE): nothing is downloaded\n`);
    expect(r.status).toBe(125);
    expect(existsSync(`${store}/images`) ? readdirSync(`${store}/images`) : []).toEqual([]);
    expect(readdirSync(root).filter((d) => !d.startsWith('.'))).toEqual([]);
  });

  it('an unknown tag: one line naming the reference, exit 125', () => {
    const r = tsrun(['--root', root, 'run', '--store', `${work}/unknown-store`, '--image', `${reg.host}/busybox:nope`, '--', 'true']);
    expect(r.stderr).toBe(`tsrun: pull ${reg.host}/busybox:nope: tag 'nope' not found in ${reg.host}/busybox (tags: latest)\n`);
    expect(r.status).toBe(125);
  });
});

describe('tsrun image pull', () => {
  it('--quiet prints the id and names only; --platform picks from an index; --offline needs no network', () => {
    const store = `${work}/pull-store`;
    const q = tsrun(['image', 'pull', '--quiet', '--store', store, `${reg.host}/multi`]);
    expect(q.stderr).toBe('');
    expect(q.stdout).toBe(`${images.amd64Digest}\t${reg.host}/multi:latest\n`);
    expect(q.status).toBe(0);
    const arm = tsrun(['image', 'pull', '--store', store, '--platform', 'linux/arm64', `${reg.host}/multi@${images.indexDigest}`]);
    expect(arm.stdout).toBe(`${images.arm64Digest}\t${reg.host}/multi@${images.indexDigest}\n`);
    expect(arm.stderr).toContain('layer 3/3');
    expect(arm.stderr).toMatch(/layer [12]\/3 [0-9a-f]{12}: already in the store/);
    const off = tsrun(['image', 'pull', '--offline', '--quiet', '--store', store, `${reg.host}/multi:latest`]);
    expect(off.stdout).toBe(`${images.amd64Digest}\t${reg.host}/multi:latest\n`);
    const missing = tsrun(['image', 'pull', '--offline', '--store', store, `${reg.host}/busybox`]);
    expect(missing.stderr).toBe(`tsrun: pull ${reg.host}/busybox:latest: not in the image store ${store}, and offline (--offline): nothing is downloaded\n`);
    expect(missing.status).toBe(1);
  });

  // However the two interleave (the in-process test in pull.test.ts makes them overlap for sure).
  it('two tsrun processes pulling one image at once: each layer is downloaded by one of them', async () => {
    const store = `${work}/two-store`;
    const pull = (): Promise<{ code: number | null; err: string }> => new Promise((resolve) => {
      const c = spawn(TSRUN, ['image', 'pull', '--store', store, `${reg.host}/multi:amd64`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      c.on('close', (code) => resolve({ code, err }));
    });
    const [a, b] = await Promise.all([pull(), pull()]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const count = (re: RegExp): number => (a.err.match(re)?.length ?? 0) + (b.err.match(re)?.length ?? 0);
    expect(count(/^layer \d\/5 [0-9a-f]{12}: done /gm)).toBe(5);
    expect(count(/^layer \d\/5 [0-9a-f]{12}: already in the store$/gm)).toBe(5);
  });

  it('a pulled image (gzip and zstd layers) is the tree umoci unpacks from skopeo copy of the same reference', () => {
    const store = `${work}/tree-store`;
    const ref = `${reg.host}/multi:amd64`;
    expect(tsrun(['image', 'pull', '--quiet', '--store', store, ref]).status).toBe(0);
    // umoci 0.4 reads no zstd: skopeo recompresses to gzip on the way (same diff-ids, same tree).
    execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-compress', '--dest-compress-format', 'gzip', `docker://${ref}`, `oci:${work}/copied:amd64`], { stdio: 'pipe' });
    execFileSync('umoci', ['unpack', '--image', `${work}/copied:amd64`, `${work}/umoci-bundle`], { stdio: 'pipe' });
    const expected = listTree(`${work}/umoci-bundle/rootfs`, `${work}/umoci-list`);
    expect(expected).toContain('./extra/zstd-file f 644 0:0');
    expect(expected).toContain('./bin/setuid-demo f 4755');
    const rec = new ImageStore(store).get(ref);
    expect(mergedTreeOf(rootfsOfRecord(rec, store), work, 'merged')).toBe(expected);
  });
});
