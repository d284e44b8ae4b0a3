// Image names as podman and docker read them (issue 13: `run --image myapp:1.0` did not find an
// image imported as docker.io/library/myapp:1.0): a name without a registry is on docker.io, a
// single-component one under library/, the tag is latest unless a tag or digest is given.
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeImageName } from '../../../src/image/image-name.js';
import { ImageStore, type ImageRecord } from '../../../src/image/image-store.js';
import { removeImage } from '../../../src/image/manage.js';
import { tempDir } from './fixtures.js';

const D = 'sha256:' + 'ab'.repeat(32);

describe('normalizeImageName', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['myapp:1.0', 'docker.io/library/myapp:1.0'],
    ['user/app', 'docker.io/user/app:latest'],
    ['user/app:2', 'docker.io/user/app:2'],
    ['library/busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['quay.io/org/app', 'quay.io/org/app:latest'],
    ['localhost/app:dev', 'localhost/app:dev'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['registry.example.com:5000/a/b/c:1', 'registry.example.com:5000/a/b/c:1'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`],
    ['busybox-layers:latest', 'docker.io/library/busybox-layers:latest'],
  ])('%s → %s', (name, full) => {
    expect(normalizeImageName(name)).toBe(full);
  });

  it.each(['', 'Upper', '/abs/path', './rel', 'a//b', 'a:b:c', 'sha256:abcd', `x@sha256:short`, 'a b'])('%j is no image name', (name) => {
    expect(normalizeImageName(name)).toBeUndefined();
  });
});

describe('ImageStore: finding an image by a short or full name', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => { cleanup?.(); cleanup = undefined; });

  function storeWith(...records: [id: string, names: string[]][]): string {
    const t = tempDir();
    cleanup = t.cleanup;
    const images = new ImageStore(t.dir);
    records.forEach(([id, names], i) => {
      const rec: ImageRecord = {
        id, names, configDigest: id, config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, layers: [], importedAt: `2026-01-0${i + 1}T00:00:00Z`,
      };
      images.save(rec);
    });
    return t.dir;
  }
  const id = (n: number): string => `sha256:${String(n).repeat(64)}`;

  it('finds docker.io/library/myapp:1.0 by myapp:1.0, library/myapp:1.0 and the full name, and says which name matched', () => {
    const store = storeWith([id(1), ['docker.io/library/myapp:1.0']]);
    const images = new ImageStore(store);
    for (const ref of ['myapp:1.0', 'library/myapp:1.0', 'docker.io/myapp:1.0', 'docker.io/library/myapp:1.0']) {
      expect(images.lookup(ref), ref).toEqual({ record: expect.objectContaining({ id: id(1) }), name: 'docker.io/library/myapp:1.0' });
    }
    expect(() => images.get('myapp')).toThrow(/no image 'myapp' \(docker\.io\/library\/myapp:latest\) in /);
    expect(() => images.get('other/myapp:1.0')).toThrow(/no image 'other\/myapp:1\.0'/);
  });

  it('finds an image recorded under a short name by its full name, and an exact name first', () => {
    const store = storeWith([id(1), ['busybox-layers:latest']], [id(2), ['docker.io/library/busybox:latest']], [id(3), ['busybox:latest']]);
    const images = new ImageStore(store);
    expect(images.lookup('docker.io/library/busybox-layers')?.record.id).toBe(id(1));
    expect(images.lookup('busybox')).toEqual({ record: expect.objectContaining({ id: id(3) }), name: 'busybox:latest' });
    expect(images.lookup('docker.io/library/busybox:latest')?.record.id).toBe(id(2));
    // Neither name is exactly this one, and both mean it.
    expect(() => images.get('library/busybox')).toThrow(/'library\/busybox' matches several images: docker\.io\/library\/busybox:latest \(sha256:2{12}…\), busybox:latest \(sha256:3{12}…\); name one in full, or by id/);
  });

  it('still finds by id and id prefix', () => {
    const images = new ImageStore(storeWith([id(1), ['docker.io/library/myapp:1.0']]));
    expect(images.lookup(id(1))).toEqual({ record: expect.objectContaining({ id: id(1) }) });
    expect(images.lookup('1111')?.record.id).toBe(id(1));
  });

  it('image rm by a short name untags the name it matched', async () => {
    const store = storeWith([id(1), ['docker.io/library/myapp:1.0', 'docker.io/library/myapp:latest']]);
    expect((await removeImage(store, 'myapp:1.0')).untagged).toBe('docker.io/library/myapp:1.0');
    expect(new ImageStore(store).get(id(1)).names).toEqual(['docker.io/library/myapp:latest']);
  });
});
