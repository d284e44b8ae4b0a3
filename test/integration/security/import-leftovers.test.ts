// Issue 12, item 8: an image import killed half-way leaves its scratch dirs (`<store>/tmp/<pid>-…`,
// up to a partial layer); the next import, of any source kind (OCI layout, docker archive plain or
// gzipped, OCI archive, or `run --image` importing), removes them and succeeds. Whether a
// scratch dir is dead is not guessed from its pid (which the kernel reuses): every maker of one holds
// the store's flock for the dir's whole life, so a dir found by whoever holds the lock is dead.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cannotRunContainers, REPO, runTsrun, TSRUN, waitForBuild } from '../../helpers/bundle.js';
import { makeTar, sha, writeLayout } from '../../unit/image/fixtures.js';

const skip = cannotRunContainers();
let work: string;
const sources: Record<string, string> = {};

/** A layer tar of `files` files of `mb` MiB of random bytes each (random: no compression helps). */
async function bigLayer(tag: string, files: number, mb: number): Promise<Buffer> {
  const entries = [{ name: `${tag}/`, type: 'directory' as const }];
  for (let i = 0; i < files; i++) entries.push({ name: `${tag}/blob${i}`, data: randomBytes(mb << 20) } as never);
  return makeTar(entries);
}

/** A docker archive (`docker save` format) of these layer tars. */
async function dockerArchive(layers: Buffer[], repoTag: string): Promise<Buffer> {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l)) } });
  const configName = `${sha(config).slice(7)}.json`;
  const layerNames = layers.map((l) => `${sha(l).slice(7)}/layer.tar`);
  const manifest = JSON.stringify([{ Config: configName, RepoTags: [repoTag], Layers: layerNames }]);
  return makeTar([
    { name: 'manifest.json', data: manifest },
    { name: configName, data: config },
    ...layers.flatMap((l, i) => [{ name: `${layerNames[i]!.split('/')[0]}/`, type: 'directory' as const }, { name: layerNames[i]!, data: l }]),
  ]);
}

beforeAll(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'tsrun-import-leftovers-'));
  const layers = [await bigLayer('a', 3, 6), await bigLayer('b', 3, 6), await bigLayer('c', 2, 6)];
  writeLayout(join(work, 'layout'), layers, { tag: 'latest', mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' });
  sources['OCI layout (gzip layers)'] = join(work, 'layout');
  const archive = await dockerArchive(layers, 'leftovers:latest');
  writeFileSync(join(work, 'image.tar'), archive);
  sources['docker archive'] = join(work, 'image.tar');
  writeFileSync(join(work, 'image.tar.gz'), gzipSync(archive, { level: 1 }));
  sources['gzipped docker archive'] = join(work, 'image.tar.gz');
  execFileSync('tar', ['-C', join(work, 'layout'), '-cf', join(work, 'image.oci.tar'), 'oci-layout', 'index.json', 'blobs']);
  sources['OCI archive'] = join(work, 'image.oci.tar');
}, 120_000);

afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

function tmpEntries(store: string): string[] {
  try { return readdirSync(join(store, 'tmp')); } catch { return []; }
}

/** `tsrun image import` SIGKILLed `atMs` after the spawn; resolves with whether the kill landed. */
async function killedImport(store: string, source: string, atMs: number): Promise<boolean> {
  await waitForBuild();
  const child = spawn('node', [TSRUN, 'image', 'import', '-q', '--store', store, source], { cwd: REPO, stdio: 'ignore' });
  const timer = setTimeout(() => child.kill('SIGKILL'), atMs);
  const signal = await new Promise<string | null>((resolve) => child.on('exit', (_c, s) => resolve(s)));
  clearTimeout(timer);
  return signal === 'SIGKILL';
}

describe.skipIf(skip !== undefined)(`security: a killed image import leaves nothing for long${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  for (const kind of ['OCI layout (gzip layers)', 'docker archive', 'gzipped docker archive', 'OCI archive']) {
    it(`${kind}: killed at several points, the next import removes the scratch dirs and succeeds`, async () => {
      const source = sources[kind]!;
      // How long a whole import takes here, to spread the kills over it.
      const probe = join(work, `probe-${kind.replace(/\W+/g, '-')}`);
      const t0 = performance.now();
      const full = await runTsrun(['image', 'import', '-q', '--store', probe, source], { timeout: 60_000 });
      const span = performance.now() - t0;
      expect(full.stderr).toBe('');
      rmSync(probe, { recursive: true, force: true });
      let leftBehind = 0;
      for (const fraction of [0.3, 0.45, 0.6, 0.75, 0.9]) {
        const store = join(work, `store-${kind.replace(/\W+/g, '-')}-${fraction}`);
        const killed = await killedImport(store, source, span * fraction);
        const left = tmpEntries(store);
        if (killed && left.length > 0) leftBehind += 1;
        const again = await runTsrun(['image', 'import', '-q', '--store', store, source], { timeout: 60_000 });
        expect([fraction, again.exitCode, again.stderr]).toEqual([fraction, 0, '']);
        expect({ fraction, tmp: tmpEntries(store) }).toEqual({ fraction, tmp: [] });
        const ls = await runTsrun(['image', 'ls', '--store', store]);
        expect(ls.stdout).toContain('latest');
        rmSync(store, { recursive: true, force: true });
      }
      // The kills must have hit an import at work, or this proves nothing.
      expect(leftBehind).toBeGreaterThan(0);
    }, 180_000);
  }

  it('scratch dirs named after live pids (a reused pid, or this very process) are removed too', async () => {
    const store = join(work, 'store-live-pids');
    mkdirSync(join(store, 'tmp', `1-stale`, 'root'), { recursive: true });
    writeFileSync(join(store, 'tmp', '1-stale', 'root', 'half-a-layer'), 'x');
    mkdirSync(join(store, 'tmp', `${process.pid}-stale`), { recursive: true });
    mkdirSync(join(store, 'tmp', 'not-a-pid'), { recursive: true });
    const r = await runTsrun(['image', 'import', '-q', '--store', store, join(REPO, 'rootfs-samples/build/busybox-layers')]);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(tmpEntries(store)).toEqual([]);
    rmSync(store, { recursive: true, force: true });
  });

  it('run --image of a source not imported yet cleans them as well', async () => {
    const store = join(work, 'store-run');
    const killed = await killedImport(store, sources['docker archive']!, 150);
    expect(killed).toBe(true);
    mkdirSync(join(store, 'tmp', '1-stale'), { recursive: true });
    const root = mkdtempSync(join(tmpdir(), 'tsrun-import-leftovers-root-'));
    const r = await runTsrun(['--root', root, 'run', '--store', store, '--image', join(REPO, 'rootfs-samples/build/busybox-layers'), '--', 'true']);
    expect([r.exitCode, r.stderr]).toEqual([0, '']);
    expect(tmpEntries(store)).toEqual([]);
    expect(existsSync(root) ? readdirSync(root) : []).toEqual([]);
    rmSync(root, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });
});
