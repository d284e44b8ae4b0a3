// `tsrun image unpack` writes a bundle another runtime can run: runc (Debian's, a peer) runs the
// image's own command in it, as the image's user, in its working directory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importImage } from '../../../src/image/import.js';
import { unpackBundle } from '../../../src/image/manage.js';
import type { Spec } from '../../../src/oci/types.js';

const REPO = new URL('../../../', import.meta.url).pathname;
let work: string;

beforeAll(() => {
  work = mkdtempSync(`${tmpdir()}/tsrun-image-bundle-`);
  execFileSync(`${REPO}/rootfs-samples/image.sh`, [`${work}/samples`], { stdio: 'pipe' });
}, 120_000);

afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

describe('tsrun image unpack', () => {
  it('writes a bundle whose config comes from the image', async () => {
    const store = `${work}/store`;
    const rec = await importImage(`${work}/samples/busybox-layers:latest`, { store });
    await unpackBundle(store, rec.id, `${work}/bundle`);
    const spec = JSON.parse(readFileSync(`${work}/bundle/config.json`, 'utf8')) as Spec;
    expect(spec.process!.args).toEqual(['/bin/sh', '-c', 'cat /etc/hostname; ls /data']);
    expect(spec.process!.user).toEqual({ uid: 1000, gid: 50 });
    expect(spec.process!.cwd).toBe('/home/app');
    expect(spec.root).toEqual({ path: 'rootfs', readonly: false });
    await expect(unpackBundle(store, rec.id, `${work}/bundle`)).rejects.toThrow(/not empty/);
  });

  it('runc runs it', () => {
    const spec = JSON.parse(readFileSync(`${work}/bundle/config.json`, 'utf8')) as Spec;
    // runc without an absolute cgroupsPath nests under the caller's cgroups (see shared baselines).
    spec.linux = { ...spec.linux, cgroupsPath: `/tsrun-image-test-${process.pid}` };
    spec.process!.args = ['/bin/sh', '-c', 'cat /etc/hostname; ls /data; id -u; id -g; pwd'];
    writeFileSync(`${work}/bundle/config.json`, JSON.stringify(spec));
    const id = `tsrun-image-${process.pid}`;
    try {
      const out = execFileSync('runc', ['run', id], { cwd: `${work}/bundle`, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
      expect(out).toBe('top\nnew\n1000\n50\n/home/app\n');
    } finally {
      try { execFileSync('runc', ['delete', '-f', id], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
  });
});
