// The merged overlay view of an imported image must equal what Debian's `umoci unpack` makes of the
// same OCI layout: paths, types, modes, owners, link targets, device numbers and file contents.
// The overlay is mounted only inside a private mount namespace (`unshare -m`), so nothing is left
// mounted on the host whatever happens.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importImage } from '../../../src/image/import.js';
import { imageRootfs } from '../../../src/image/rootfs.js';
import { overlayForContainer, removeContainerOverlay } from '../../../src/image/overlay.js';
import { flattenLayers } from '../../../src/image/flatten.js';
import { LayerStore } from '../../../src/image/layer-store.js';
import { makeTar, writeLayout } from '../../unit/image/fixtures.js';
import { listTree, mergedTreeOf } from '../../helpers/image-tree.js';

const REPO = new URL('../../../', import.meta.url).pathname;

/** The merged overlay view of an imported layout, listed inside a private mount namespace. */
async function mergedTree(layoutRef: string, store: string, name: string): Promise<string> {
  return mergedTreeOf(await imageRootfs(layoutRef, { store }), work, name);
}

let work: string;
let layout: string;
let umociTree: string;

beforeAll(() => {
  work = mkdtempSync(`${tmpdir()}/tsrun-image-it-`);
  execFileSync(`${REPO}/rootfs-samples/image.sh`, [`${work}/samples`], { stdio: 'pipe' });
  layout = `${work}/samples/busybox-layers`;
  execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, `${work}/umoci`], { stdio: 'pipe' });
  umociTree = listTree(`${work}/umoci/rootfs`, `${work}/umoci-list`);
}, 120_000);

afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

describe('imported sample image vs umoci unpack', () => {
  it('the sample shows the whiteout and the opaque directory', () => {
    expect(umociTree).toContain('./data/new f');
    expect(umociTree).not.toContain('./data/old');
    expect(umociTree).not.toContain('./etc/motd');
    expect(umociTree).toContain('./bin/setuid-demo f 4755');
  });

  it('overlay of the imported layers equals umoci rootfs', async () => {
    const store = `${work}/store`;
    await importImage(layout, { store });
    expect(await mergedTree(`${layout}:latest`, store, 'container')).toBe(umociTree);
    // The mount lived only in the namespace.
    expect(execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' })).not.toContain(`${work}/container/merged`);
  });

  it('a layer writing through its own symlinks (relative, absolute, chained, to a missing dir) gives umoci\'s tree', async () => {
    const base = await makeTar([
      { name: 'usr/', type: 'directory' }, { name: 'usr/lib/', type: 'directory' }, { name: 'usr/share/', type: 'directory' },
      { name: 'usr/lib/libc.so', data: 'libc' },
    ]);
    const top = await makeTar([
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' }, // usrmerge
      { name: 'lib/foo.so', data: 'foo' },
      { name: 'share', type: 'symlink', linkname: '/usr/share' }, // absolute: the layer root, not the host's
      { name: 'share/doc/', type: 'directory', mode: 0o750 },
      { name: 'share/doc/readme', data: 'readme' },
      { name: 'c1', type: 'symlink', linkname: 'c2' },
      { name: 'c2', type: 'symlink', linkname: '/usr/../usr/lib/../lib' },
      { name: 'c1/bar', data: 'bar' },
      { name: 'opt2', type: 'symlink', linkname: '/opt/new' }, // a target not made yet: its directories are
      { name: 'opt2/file', data: 'new' },
    ]);
    const dir = `${work}/symlink-layout`;
    writeLayout(dir, [base, top]);
    execFileSync('umoci', ['unpack', '--image', `${dir}:latest`, `${work}/symlink-umoci`], { stdio: 'pipe' });
    const expected = listTree(`${work}/symlink-umoci/rootfs`, `${work}/symlink-umoci-list`);
    expect(expected).toContain('./usr/lib/foo.so f 644');
    expect(expected).toContain('./usr/share/doc/readme f');
    expect(expected).toContain('./usr/lib/bar f');
    expect(expected).toContain('./opt/new/file f');
    expect(await mergedTree(`${dir}:latest`, `${work}/symlink-store`, 'symlink-container')).toBe(expected);
  });

  it('runs the image command in the merged view: the whiteout and opaque dir at work', async () => {
    const store = `${work}/store`;
    const rootfs = await imageRootfs(`${layout}:latest`, { store });
    const c = `${work}/container-run`;
    mkdirSync(`${c}/merged`, { recursive: true });
    const m = overlayForContainer(rootfs, c);
    const script = 'cd "$1" && mount -t overlay overlay -o "$2" "$3" && chroot "$3" /bin/sh -c "cat /etc/hostname; ls /data; test -e /etc/motd || echo motd-gone; echo written > /data/new-file" && cat "$4/data/new-file"';
    const out = execFileSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', m.chdir, m.data, `${c}/merged`, m.upperDir], { encoding: 'utf8' });
    expect(out).toBe('top\nnew\nmotd-gone\nwritten\n'); // the write landed in the container's upper dir
    removeContainerOverlay(c);
  });

  it('tsrun image unpack (flattened layers) equals umoci rootfs', async () => {
    const store = `${work}/store`;
    const rootfs = await imageRootfs(`${layout}:latest`, { store });
    const flat = `${work}/flat`;
    mkdirSync(flat);
    flattenLayers(rootfs.lowerDirs, flat);
    expect(listTree(flat, `${work}/flat-list`)).toBe(umociTree);
  });

  it('the docker archive of the same image gives the same layers', async () => {
    const store = `${work}/store-docker`;
    const rec = await importImage(`${work}/samples/busybox-layers.docker.tar`, { store });
    const oci = await imageRootfs(`${layout}:latest`, { store: `${work}/store` });
    expect(rec.layers.map((l) => l.diffId)).toEqual(oci.diffIds);
    const lowerDirs = rec.layers.map((l) => new LayerStore(store).rootOf(l.diffId)).reverse();
    const flat = `${work}/flat-docker`;
    mkdirSync(flat);
    flattenLayers(lowerDirs, flat);
    expect(listTree(flat, `${work}/flat-docker-list`)).toBe(umociTree);
  });

  it('a zstd copy of the layout (skopeo --dest-compress-format zstd) unpacks to the same tree', async () => {
    const zstdLayout = `${work}/zstd-layout`;
    execFileSync('skopeo', ['copy', '-q', '--dest-compress-format', 'zstd', `oci:${layout}:latest`, `oci:${zstdLayout}:latest`], { stdio: 'pipe' });
    const store = `${work}/store-zstd`;
    const rec = await importImage(`${zstdLayout}:latest`, { store });
    expect(rec.layers.every((l) => l.mediaType.endsWith('+zstd'))).toBe(true);
    const lowerDirs = rec.layers.map((l) => new LayerStore(store).rootOf(l.diffId)).reverse();
    const flat = `${work}/flat-zstd`;
    mkdirSync(flat);
    flattenLayers(lowerDirs, flat);
    expect(listTree(flat, `${work}/flat-zstd-list`)).toBe(umociTree);
  });
});
