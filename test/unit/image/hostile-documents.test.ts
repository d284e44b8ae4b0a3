// What the image fuzzer (test/integration/security/fuzz-image.test.ts) found, one test each: image
// documents of the wrong shape, broken gzip around a docker archive, entry names that would break an
// error message over lines, and layer paths too long for the store to remove again. Each is a
// one-line TsrunError that names the document or entry, and the store keeps nothing.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { TsrunError } from '../../../src/errors.js';
import { importImage } from '../../../src/image/import.js';
import { unpackLayer } from '../../../src/image/layer-unpack.js';
import { makeTar, sha, tempDir, writeLayout } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });
function tmp(): string { const t = tempDir(); cleanups.push(t.cleanup); return t.dir; }

/** importImage's refusal: a TsrunError of one line matching `message`; the store keeps no layer or scratch dir. */
async function expectRefused(source: string, store: string, message: RegExp): Promise<void> {
  let err: unknown;
  try { await importImage(source, { store }); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(TsrunError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain('\n');
  expect(existsSync(`${store}/tmp`) ? readdirSync(`${store}/tmp`) : []).toEqual([]);
  expect(existsSync(`${store}/layers`) ? readdirSync(`${store}/layers`) : []).toEqual([]);
}

const layer = (): Promise<Buffer> => makeTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/hostname', data: `x${Math.random()}\n` }]);

/** A docker archive whose manifest.json is `manifest` (text as given, or JSON of it). */
async function dockerArchive(dir: string, manifest: (cfgName: string) => unknown, gzip = false): Promise<string> {
  const b = await layer();
  const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(b)] } }));
  const cfgName = `${sha(cfg).slice(7)}.json`;
  const m = manifest(cfgName);
  const tar = await makeTar([
    { name: 'l/layer.tar', data: b },
    { name: cfgName, data: cfg },
    { name: 'manifest.json', data: typeof m === 'string' ? m : JSON.stringify(m) },
  ]);
  const file = `${dir}/image.tar${gzip ? '.gz' : ''}`;
  writeFileSync(file, gzip ? gzipSync(tar) : tar);
  return file;
}

describe('docker archives of the wrong shape', () => {
  it.each<[string, (cfg: string) => unknown, RegExp]>([
    ['an entry that is no object', () => [null], /manifest\.json: \[0\]: must be an object, got null/],
    ['no Config', () => [{ Layers: ['l/layer.tar'] }], /manifest\.json: \[0\]\.Config: is required/],
    ['Layers not a list', (cfg) => [{ Config: cfg, Layers: 'l/layer.tar' }], /manifest\.json: \[0\]\.Layers: must be an array, got string/],
    ['a layer name that is no string', (cfg) => [{ Config: cfg, Layers: [7] }], /manifest\.json: \[0\]\.Layers\[0\]: must be a string, got number/],
    ['RepoTags not a list', (cfg) => [{ Config: cfg, Layers: ['l/layer.tar'], RepoTags: 'demo:1' }], /manifest\.json: \[0\]\.RepoTags: must be an array, got string/],
    ['an empty layer name (quoted in the refusal)', (cfg) => [{ Config: cfg, Layers: [''] }], /image\.tar: "" is missing from the archive/],
  ])('%s', async (_what, manifest, message) => {
    const dir = tmp();
    await expectRefused(await dockerArchive(dir, manifest), tmp(), message);
  });

  it('a gzip stream that is cut short or corrupt is a one-line error naming the archive', async () => {
    const dir = tmp();
    const file = await dockerArchive(dir, (cfg) => [{ Config: cfg, Layers: ['l/layer.tar'] }], true);
    const gz = (await import('node:fs')).readFileSync(file);
    writeFileSync(file, gz.subarray(0, gz.length - 20));
    await expectRefused(file, tmp(), /image\.tar\.gz: broken gzip: unexpected end of file/);
    writeFileSync(file, Buffer.concat([gz.subarray(0, 10), Buffer.alloc(100, 0x55)]));
    await expectRefused(file, tmp(), /image\.tar\.gz: broken gzip: /);
  });
});

describe('OCI layouts of the wrong shape', () => {
  /** A layout of one layer, its index, manifest or config changed through `spoil`. */
  async function layout(spoil: { index?: (i: Record<string, unknown>) => void }): Promise<string> {
    const dir = tmp();
    writeLayout(dir, [await layer()]);
    const index = JSON.parse((await import('node:fs')).readFileSync(`${dir}/index.json`, 'utf8')) as Record<string, unknown>;
    spoil.index?.(index);
    writeFileSync(`${dir}/index.json`, JSON.stringify(index));
    return dir;
  }

  it.each<[string, (i: Record<string, unknown>) => void, RegExp]>([
    ['a malformed digest (it would become a path)', (i) => { (i['manifests'] as Record<string, unknown>[])[0]!['digest'] = `sha256:${'a'.repeat(64)}/../../x`; }, /index\.json: manifests\[0\]\.digest: must be a digest sha256:<64 hex digits>, got "sha256:a{64}\/\.\.\/\.\.\/x"/],
    ['a manifest descriptor that is null', (i) => { i['manifests'] = [null]; }, /index\.json: manifests\[0\]: must be an object, got null/],
    ['a descriptor size that is no number', (i) => { (i['manifests'] as Record<string, unknown>[])[0]!['size'] = 'x'; }, /index\.json: manifests\[0\]\.size: must be an integer/],
    ['annotations that are no map', (i) => { (i['manifests'] as Record<string, unknown>[])[0]!['annotations'] = 1; }, /index\.json: manifests\[0\]\.annotations: must be an object, got number/],
  ])('%s', async (_what, spoil, message) => {
    await expectRefused(await layout({ index: spoil }), tmp(), message);
  });

  it('a manifest whose layers are not descriptors, and a config whose fields have the wrong type', async () => {
    const b = await layer();
    const dir = tmp();
    // The manifest and config are blobs: write a layout whose documents are wrong from the start.
    const put = (text: string): { digest: string; size: number } => {
      const buf = Buffer.from(text);
      mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
      writeFileSync(`${dir}/blobs/sha256/${sha(buf).slice(7)}`, buf);
      return { digest: sha(buf), size: buf.length };
    };
    const writeIndex = (manifest: unknown): void => {
      const m = put(JSON.stringify(manifest));
      writeFileSync(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
      writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m }] }));
    };
    const config = (c: unknown): Record<string, unknown> => ({ mediaType: 'application/vnd.oci.image.config.v1+json', ...put(JSON.stringify(c)) });
    const good = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(b)] } };
    writeIndex({ schemaVersion: 2, config: config(good), layers: [7] });
    await expectRefused(dir, tmp(), /blob sha256:[0-9a-f]{64}: layers\[0\]: must be an object, got number/);
    writeIndex({ schemaVersion: 2, config: config({ ...good, config: 'x' }), layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(b.toString('latin1')) }] });
    await expectRefused(dir, tmp(), /blob sha256:[0-9a-f]{64}: config: must be an object, got string/);
    writeIndex({ schemaVersion: 2, config: config({ ...good, config: { Cmd: 'sh', Env: ['A=1'] } }), layers: [] });
    await expectRefused(dir, tmp(), /config\.Cmd: must be an array, got string/);
    writeIndex({ schemaVersion: 2, config: config({ ...good, os: 1 }), layers: [] });
    await expectRefused(dir, tmp(), /blob sha256:[0-9a-f]{64}: os: must be a string, got number/);
  });
});

describe('layer entries', () => {
  async function unpackError(tar: Buffer): Promise<TsrunError> {
    const root = `${tmp()}/root`;
    mkdirSync(root);
    try { await unpackLayer(Readable.from([tar]), root); } catch (e) { expect(e).toBeInstanceOf(TsrunError); return e as TsrunError; }
    throw new Error('expected a refusal');
  }

  it('a tar cut inside the padding after an entry is truncated (the entries after it are missing)', async () => {
    const tar = await makeTar([{ name: 'first', data: 'x'.repeat(100) }, { name: 'second', data: 'y' }]);
    const err = await unpackError(tar.subarray(0, 512 + 100 + 50));
    expect(err.message).toBe('broken layer tar: archive is truncated');
    // Cut right after the PAX record of the second entry.
    const withPax = await makeTar([{ name: 'first', data: 'x' }, { name: 'second', data: 'y', pax: { comment: 'c' } }]);
    expect((await unpackError(withPax.subarray(0, 4 * 512))).message).toBe('broken layer tar: archive is truncated after an extended header');
  });

  it.each([
    [{ uid: '4294967295' }, 'bad owner 4294967295:0 for "f"'],
    [{ uid: '1099511627776' }, 'bad owner 1099511627776:0 for "f"'],
    [{ gid: 'abc' }, 'bad owner 0:NaN for "f"'],
    [{ mtime: 'soon' }, 'bad time for "f"'],
  ])('a PAX owner or time that is no id or number is refused (%o)', async (pax, message) => {
    const err = await unpackError(await makeTar([{ name: 'f', data: 'x', uid: 0, gid: 0, pax }]));
    expect(err.message).toBe(`broken layer tar: ${message}`);
  });

  it('an entry name with a newline is quoted on one line in the refusal', async () => {
    const err = await unpackError(await makeTar([{ name: '/etc/line\nbreak', data: 'x' }]));
    expect(err.message).toBe('refusing layer entry "/etc/line\\nbreak": entry has an absolute path');
  });

  it('a path longer than the store could remove again (PATH_MAX) is refused before it is made', async () => {
    const deep = `${'d/'.repeat(2100)}leaf`;
    const root = `${tmp()}/root`;
    mkdirSync(root);
    let err: unknown;
    try { await unpackLayer(Readable.from([await makeTar([{ name: 'x', data: 'x', pax: { path: deep } }])]), root); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TsrunError);
    expect((err as Error).message).toMatch(/^refusing layer entry "d\/d\/d\/.*…": its path in the layer is 4204 bytes; at most \d+ \(PATH_MAX, less the store's own path\)$/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('a short name whose parent a symlink sends 600 directories deep is refused before those are made', async () => {
    const root = `${tmp()}/root`;
    mkdirSync(root);
    const tar = await makeTar([{ name: 'a', type: 'symlink', linkname: `${'d/'.repeat(600)}end` }, { name: 'a/x', data: 'x' }]);
    let err: unknown;
    try { await unpackLayer(Readable.from([tar]), root); } catch (e) { err = e; }
    expect((err as Error).message).toMatch(/^refusing layer entry "a\/x": its parent resolves to a directory nested 513 deep; at most 512$/);
    const depth = (dir: string): number => (existsSync(`${dir}/d`) ? 1 + depth(`${dir}/d`) : 0);
    expect(depth(root)).toBe(512);
  });
});
