// Generated hostile image archives for fuzz-image.test.ts: layer tars written byte by byte (so that
// nothing a normal packer refuses is out of reach: absolute and `..` names, writes through symlinks
// that leave the layer, hard links out of it, device nodes, huge PAX and long-name records, absurd
// sizes, bad checksums, truncation), wrapped in OCI layouts (plain, gzip, zstd) and docker archives
// (plain, gzip), and layouts or archives whose JSON (index, manifest, config, manifest.json) is wrong.
// Each case says whether it must be refused (`invalid`) or may import (`maybe`): device nodes and
// absolute symlinks that stay inside the layer are legitimate. Every hostile path aims at the test's
// canary directory, outside the store.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Random } from './fuzz-random.js';

export interface ImageCase {
  what: string;
  /** Must be refused, or may import (then it must still leave nothing outside the store). */
  expect: 'invalid' | 'maybe';
  /** Writes the source under `dir` and returns the path to give `image import`. */
  write(dir: string): string;
}

export interface Targets {
  /** Absolute path of the canary directory (outside the store), holding a file `victim`. */
  canary: string;
  /** How many `..` lead from a layer's unpack root to the directory that holds the canary. */
  depthToWork: number;
}

// ---------------------------------------------------------------------------------------------
// A tar writer with nothing checked.

interface RawEntry {
  name: string;
  type?: string; // the type flag
  data?: Buffer | string;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
  /** The size field as written (default: the data's length); a bigint is written base-256. */
  size?: number | bigint;
  /** Extra PAX records before the entry. */
  pax?: Record<string, string | Buffer>;
  /** Spoil the header checksum. */
  badChecksum?: boolean;
  /** Raw bytes over a header field: [offset in the header, bytes]. */
  patch?: [number, string];
}

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function octal(b: Buffer, at: number, len: number, v: number): void {
  b.write(`${v.toString(8).padStart(len - 1, '0')}\0`, at, len, 'latin1');
}

function header(e: RawEntry, size: number | bigint): Buffer {
  const h = Buffer.alloc(512);
  h.write(e.name.slice(0, 100), 0, 100, 'utf8');
  octal(h, 100, 8, e.mode ?? 0o644);
  octal(h, 108, 8, e.uid ?? 0);
  octal(h, 116, 8, e.gid ?? 0);
  if (typeof size === 'bigint') {
    let v = size < 0n ? (1n << 95n) + size : size; // base-256: 0x80 (or 0xff for negative) then 11 bytes
    for (let i = 135; i > 124; i--) { h[i] = Number(v & 0xffn); v >>= 8n; }
    h[124] = size < 0n ? 0xff : 0x80;
  } else {
    octal(h, 124, 12, size);
  }
  octal(h, 136, 12, 1_700_000_000);
  h.write(e.type ?? '0', 156, 1, 'latin1');
  h.write((e.linkname ?? '').slice(0, 100), 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'latin1');
  h.write('00', 263, 2, 'latin1');
  octal(h, 329, 8, e.devmajor ?? 0);
  octal(h, 337, 8, e.devminor ?? 0);
  if (e.patch) h.write(e.patch[1], e.patch[0], 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of h) sum += c;
  octal(h, 148, 7, e.badChecksum ? sum + 1 : sum);
  h[155] = 0x20;
  return h;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

function paxBlock(records: Record<string, string | Buffer>, type = 'x'): Buffer[] {
  const parts = Object.entries(records).map(([k, v]) => {
    const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.isBuffer(v) ? v : Buffer.from(v), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return Buffer.concat([Buffer.from(String(len)), body]);
  });
  const data = Buffer.concat(parts);
  return [header({ name: 'PaxHeader', type }, data.length), data, pad(data.length)];
}

/** A tar of the entries, with the end-of-archive blocks unless `noEnd`. */
export function rawTar(entries: RawEntry[], noEnd = false): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) out.push(...paxBlock(e.pax));
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    out.push(header(e, e.size ?? data.length), data, pad(data.length));
  }
  if (!noEnd) out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

/** Offset just past the last entry's data (before padding and the end blocks). */
function endOfLastData(entries: RawEntry[]): number {
  return rawTar(entries, true).length - pad(Buffer.from(entries[entries.length - 1]?.data ?? '').length).length;
}

// ---------------------------------------------------------------------------------------------
// Wrappers.

type Compression = 'none' | 'gzip' | 'zstd';
const LAYER_TYPES: Record<Compression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

function compress(tar: Buffer, c: Compression): Buffer {
  if (c === 'gzip') return gzipSync(tar);
  if (c === 'zstd') return execFileSync('zstd', ['-q', '-c', '-1'], { input: tar, maxBuffer: 1 << 28 });
  return tar;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface LayoutParts { index: JsonObject; manifest: JsonObject; config: JsonObject; layerBlobs: Buffer[] }

/** Hooks to break a layout's documents (called on the parsed objects before they are written). */
interface LayoutSpoilers {
  config?(c: JsonObject): void;
  /** Changes the config's JSON text (for what JSON.stringify could not write, e.g. deep nesting). */
  configText?(text: string): string;
  manifest?(m: JsonObject, blobs: { config: { digest: string; size: number } }): void;
  index?(i: JsonObject, put: (b: Buffer) => { digest: string; size: number }): void;
  /** Raw text instead of the document. */
  indexText?: string;
  /** Leave files out or replace them after writing. */
  after?(dir: string, parts: { manifestDigest: string; configDigest: string; layerDigests: string[] }): void;
}

/** An OCI layout of the layer tars, with `spoil` applied to its documents. */
export function writeLayout(dir: string, layers: Buffer[], c: Compression, spoil: LayoutSpoilers = {}, diffIds?: string[]): string {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer): { digest: string; size: number } => {
    const digest = sha256(b);
    writeFileSync(join(dir, 'blobs/sha256', digest.slice(7)), b);
    return { digest, size: b.length };
  };
  const blobs = layers.map((t) => ({ mediaType: LAYER_TYPES[c], ...put(compress(t, c)) }));
  const config: JsonObject = { architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIds ?? layers.map(sha256) } };
  spoil.config?.(config);
  const configText = JSON.stringify(config);
  const configBlob = put(Buffer.from(spoil.configText ? spoil.configText(configText) : configText));
  const manifest: JsonObject = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configBlob }, layers: blobs };
  spoil.manifest?.(manifest, { config: configBlob });
  const manifestBlob = put(Buffer.from(JSON.stringify(manifest)));
  const index: JsonObject = {
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestBlob, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  };
  spoil.index?.(index, put);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), spoil.indexText ?? JSON.stringify(index));
  spoil.after?.(dir, { manifestDigest: manifestBlob.digest, configDigest: configBlob.digest, layerDigests: blobs.map((b) => b.digest) });
  return dir;
}

/** A `docker save` archive of the layer tars; `spoil` may change manifest.json or its members. */
export function writeDockerArchive(file: string, layers: Buffer[], gzip: boolean, spoil: { manifest?(m: Json[]): Json; config?(c: JsonObject): void; truncate?: number } = {}): string {
  const config: JsonObject = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map(sha256) } };
  spoil.config?.(config);
  const configBytes = Buffer.from(JSON.stringify(config));
  const configName = `${sha256(configBytes).slice(7)}.json`;
  const layerNames = layers.map((_, i) => `layer${i}/layer.tar`);
  const manifest: Json[] = [{ Config: configName, RepoTags: ['fuzz:latest'], Layers: layerNames }];
  const manifestJson = spoil.manifest ? spoil.manifest(manifest) : manifest;
  let tar = rawTar([
    ...layers.map((l, i) => ({ name: layerNames[i]!, data: l })),
    { name: configName, data: configBytes },
    { name: 'manifest.json', data: typeof manifestJson === 'string' ? manifestJson : JSON.stringify(manifestJson) },
  ]);
  if (spoil.truncate !== undefined) tar = tar.subarray(0, spoil.truncate);
  writeFileSync(file, gzip ? gzipSync(tar) : tar);
  return file;
}

// ---------------------------------------------------------------------------------------------
// Hostile layers.

interface LayerCase { what: string; expect: 'invalid' | 'maybe'; entries: RawEntry[]; truncateAt?: number }

function hostileLayer(r: Random, t: Targets): LayerCase {
  const up = '../'.repeat(t.depthToWork);
  const tag = r.string(6, 'abcdefghij');
  const benign: RawEntry[] = [{ name: 'etc/', type: '5', mode: 0o755 }, { name: `etc/f-${tag}`, data: r.string(r.int(0, 700), 'xyz\n') }];
  const cases: (() => LayerCase)[] = [
    () => ({ what: 'an absolute entry name', expect: 'invalid', entries: [...benign, { name: `${t.canary}/abs-${tag}`, data: 'x' }] }),
    () => ({ what: 'a .. entry name', expect: 'invalid', entries: [...benign, { name: `${up}canary/dotdot-${tag}`, data: 'x' }] }),
    () => ({ what: 'a .. in the middle', expect: 'invalid', entries: [{ name: `etc/${up}${up}canary/mid-${tag}`, data: 'x' }] }),
    () => ({ what: 'a relative symlink leaving the layer, written through', expect: 'invalid', entries: [{ name: 'esc', type: '2', linkname: `${up}canary` }, { name: `esc/through-${tag}`, data: 'x' }] }),
    () => ({ what: 'a symlink to a symlink leaving the layer, written through', expect: 'invalid', entries: [{ name: 'a', type: '2', linkname: 'b/..' }, { name: 'b', type: '2', linkname: `../${up}canary` }, { name: `a/chain-${tag}`, data: 'x' }] }),
    () => ({ what: 'a directory entry through an escaping symlink', expect: 'invalid', entries: [{ name: 'esc', type: '2', linkname: `${up}canary` }, { name: `esc/dir-${tag}/`, type: '5' }] }),
    () => ({ what: 'a hard link to an absolute host path', expect: 'invalid', entries: [{ name: `h-${tag}`, type: '1', linkname: `${t.canary}/victim` }] }),
    () => ({ what: 'a hard link with ..', expect: 'invalid', entries: [{ name: `h-${tag}`, type: '1', linkname: `${up}canary/victim` }] }),
    () => ({ what: 'a hard link through an escaping symlink', expect: 'invalid', entries: [{ name: 's', type: '2', linkname: `${up}canary` }, { name: `h-${tag}`, type: '1', linkname: 's/victim' }] }),
    () => ({ what: 'a hard link to a missing target', expect: 'invalid', entries: [{ name: `h-${tag}`, type: '1', linkname: 'nothing/here' }] }),
    () => ({ what: 'a PAX record over 1 MiB', expect: 'invalid', entries: [{ name: 'f', data: 'x', pax: { comment: 'c'.repeat((1 << 20) + 10) } }] }),
    () => ({ what: 'a GNU long name over 1 MiB', expect: 'invalid', entries: [{ name: '././@LongLink', type: 'L', data: 'n'.repeat((1 << 20) + 1) }, { name: 'f', data: 'x' }] }),
    () => ({ what: 'an absurd base-256 size', expect: 'invalid', entries: [{ name: `big-${tag}`, size: 1n << BigInt(r.int(40, 80)) }] }),
    () => ({ what: 'a negative base-256 size', expect: 'invalid', entries: [{ name: `neg-${tag}`, size: -5n }] }),
    () => ({ what: 'a PAX size that is no number', expect: 'invalid', entries: [{ name: `p-${tag}`, data: 'x', pax: { size: r.pick(['-1', 'abc', '1e400', '9007199254740993']) } }] }),
    () => ({ what: 'a bad header checksum', expect: 'invalid', entries: [...benign, { name: `c-${tag}`, data: 'x', badChecksum: true }] }),
    () => ({ what: 'a bad octal field', expect: 'invalid', entries: [{ name: `o-${tag}`, data: 'x', patch: [100, '0009999'] }] }),
    () => ({ what: 'an unsupported entry type', expect: 'invalid', entries: [{ name: `t-${tag}`, type: r.pick(['S', 'V', 'M', 'D', 'N', 'Z']), data: 'x' }] }),
    () => ({ what: 'an overlayfs xattr', expect: 'invalid', entries: [{ name: 'd/', type: '5', pax: { 'SCHILY.xattr.trusted.overlay.redirect': `${t.canary}` } }] }),
    () => ({ what: 'a whiteout of ..', expect: 'invalid', entries: [{ name: 'd/.wh..', data: '' }] }),
    () => ({ what: 'a file as the layer root', expect: 'invalid', entries: [{ name: './', data: 'x' }] }),
    () => ({ what: 'a NUL in a PAX path', expect: 'invalid', entries: [{ name: 'x', data: 'x', pax: { path: `a\u0000${t.canary}/nul-${tag}` } }] }),
    () => ({ what: 'a newline and an absolute PAX path', expect: 'invalid', entries: [{ name: 'x', data: 'x', pax: { path: `${t.canary}/line\nbreak-${tag}` } }] }),
    () => ({ what: 'a symlink loop written through', expect: 'invalid', entries: [{ name: 'l1', type: '2', linkname: 'l2' }, { name: 'l2', type: '2', linkname: 'l1' }, { name: 'l1/x', data: 'x' }] }),
    () => ({ what: 'a file as a parent', expect: 'invalid', entries: [{ name: 'f', data: 'x' }, { name: 'f/x', data: 'y' }] }),
    // truncateAt -1: the PAX record's length is overwritten with more than the record holds.
    () => ({ what: 'a bad PAX record length', expect: 'invalid', entries: [{ name: 'f', data: 'x', pax: { path: 'ok' } }], truncateAt: -1 }),
    () => {
      const entries: RawEntry[] = [...benign, { name: `data-${tag}`, data: r.string(r.int(600, 3000), 'abc') }];
      const end = endOfLastData(entries);
      let at = r.int(1, end - 1);
      if (at % 512 === 0) at += 1;
      return { what: `a tar cut at byte ${at}`, expect: 'invalid', entries, truncateAt: at };
    },
    // Legitimate, however odd: they must import, or fail cleanly, and stay inside the layer.
    () => ({ what: 'device nodes', expect: 'maybe', entries: [{ name: 'dev/', type: '5' }, { name: `dev/c-${tag}`, type: '3', devmajor: r.chance(0.3) ? r.int(4096, 0o7777777) : r.int(0, 4095), devminor: r.int(0, 1 << 21) }, { name: `dev/b-${tag}`, type: '4', devmajor: r.int(0, 300), devminor: r.int(0, 300) }, { name: `dev/p-${tag}`, type: '6' }] }),
    () => ({ what: 'an absolute symlink written through (lands inside the layer)', expect: 'maybe', entries: [{ name: 'abs', type: '2', linkname: t.canary }, { name: `abs/inside-${tag}`, data: 'x' }] }),
    () => ({ what: 'symlinks out of the layer, never written through', expect: 'maybe', entries: [{ name: 'out1', type: '2', linkname: `${up}canary/victim` }, { name: 'out2', type: '2', linkname: `${t.canary}/victim` }] }),
    () => ({ what: 'odd owners and modes', expect: 'maybe', entries: [{ name: `m-${tag}`, data: 'x', mode: r.int(0, 0o7777), uid: r.pick([0, 65534, 2 ** 21 - 1]), gid: r.int(0, 2 ** 21 - 1) }, { name: `n-${tag}`, data: 'y', pax: { uid: String(r.pick([4294967295, 4294967294, 2 ** 40])), gid: '4294967295' } }] }),
    () => ({ what: 'names with odd characters', expect: 'maybe', entries: [{ name: `odd/${r.anyText(r.int(1, 20)).replace(/[\u0000/]/g, '_')}`, data: 'x' }, { name: `nl/a\nb-${tag}`, data: 'y' }] }),
    () => ({ what: 'whiteouts and an opaque marker', expect: 'maybe', entries: [{ name: 'd/', type: '5' }, { name: 'd/.wh..wh..opq', data: '' }, { name: `d/.wh.gone-${tag}`, data: '' }, { name: '.wh..wh.plnk', data: '' }] }),
    () => ({ what: 'a directory tree deeper than PATH_MAX', expect: 'maybe', entries: [{ name: 'x', data: '', pax: { path: `${'d/'.repeat(r.int(1100, 2500))}leaf` } }] }),
    () => ({ what: 'the same name as file, directory and symlink', expect: 'maybe', entries: [{ name: 'n', data: 'x' }, { name: 'n/', type: '5' }, { name: 'n', type: '2', linkname: t.canary }, { name: 'n', data: 'z' }] }),
  ];
  return r.pick(cases)();
}

function layerBytes(c: LayerCase): Buffer {
  const tar = rawTar(c.entries);
  // The PAX data (not checksummed) starts at 512: its record's length now claims 99 bytes.
  if (c.truncateAt === -1) { tar.write('99', 512, 'latin1'); return tar; }
  return c.truncateAt === undefined ? tar : tar.subarray(0, c.truncateAt);
}

// ---------------------------------------------------------------------------------------------
// Whole cases.

/**
 * A harmless layer, different every time: the store keeps layers by diff_id, and a layer it already
 * has is never read again (so a broken blob of a known layer would not be looked at).
 */
const innocent = (r: Random): Buffer => rawTar([{ name: 'etc/', type: '5', mode: 0o755 }, { name: 'etc/hostname', data: `fuzz-${r.string(12, 'abcdefghijklmnop')}\n` }]);

/** A generated hostile source: a layout or an archive holding a hostile layer, or broken JSON or blobs. */
export function imageCase(r: Random, t: Targets): ImageCase {
  const kind = r.int(0, 99);
  if (kind < 55) {
    const layer = hostileLayer(r, t);
    const bytes = layerBytes(layer);
    const layers = r.chance(0.3) ? [innocent(r), bytes] : [bytes];
    const inDocker = r.chance(0.3);
    const c: Compression = r.pick(['none', 'none', 'gzip', 'zstd']);
    return {
      what: `${layer.what} (${inDocker ? 'docker archive' : `OCI layout, ${c}`})`,
      expect: layer.expect,
      write: (dir) => (inDocker ? writeDockerArchive(join(dir, 'image.tar'), layers, r.chance(0.3)) : writeLayout(join(dir, 'layout'), layers, c)),
    };
  }
  if (kind < 70) return brokenBlobCase(r);
  if (kind < 88) return brokenLayoutJsonCase(r);
  return brokenDockerCase(r);
}

/** Blobs whose bytes are not what their descriptors say, or do not decompress. */
function brokenBlobCase(r: Random): ImageCase {
  const tar = innocent(r);
  const options: [string, (dir: string) => string][] = [
    ['gzip magic and garbage', (dir) => writeLayout(dir, [tar], 'gzip', { after: (d, p) => overwriteBlob(d, p.layerDigests[0]!, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from(r.string(200, 'abc'))])) })],
    ['a truncated gzip stream', (dir) => writeLayout(dir, [tar], 'gzip', { after: (d, p) => truncateBlob(d, p.layerDigests[0]!, r) })],
    ['zstd magic and garbage', (dir) => writeLayout(dir, [tar], 'zstd', { after: (d, p) => overwriteBlob(d, p.layerDigests[0]!, Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from(r.string(300, 'xyz'))])) })],
    ['a truncated zstd stream', (dir) => writeLayout(dir, [tar], 'zstd', { after: (d, p) => truncateBlob(d, p.layerDigests[0]!, r) })],
    ['a layer blob that does not match its digest', (dir) => writeLayout(dir, [tar], r.pick<Compression>(['none', 'gzip']), { after: (d, p) => { const f = join(d, 'blobs/sha256', p.layerDigests[0]!.slice(7)); const b = Buffer.from(readBlob(f)); b[b.length - 1] = b[b.length - 1]! ^ 1; writeFileSync(f, b); } })],
    ['a diff_id that does not match the layer', (dir) => writeLayout(dir, [tar], r.pick<Compression>(['none', 'gzip', 'zstd']), {}, [sha256(Buffer.from('other'))])],
    ['a layer blob that is missing', (dir) => writeLayout(dir, [tar], 'gzip', { after: (d, p) => removeBlob(d, p.layerDigests[0]!) })],
    ['a layer blob longer than declared', (dir) => writeLayout(dir, [tar], 'none', { after: (d, p) => { const f = join(d, 'blobs/sha256', p.layerDigests[0]!.slice(7)); writeFileSync(f, Buffer.concat([readBlob(f), Buffer.alloc(512)])); } })],
    ['gzip of a tar with trailing garbage', (dir) => writeLayout(dir, [Buffer.concat([tar.subarray(0, tar.length - 1024), Buffer.from('garbage!')])], 'gzip')],
  ];
  const [what, write] = r.pick(options);
  return { what, expect: 'invalid', write: (dir) => write(join(dir, 'layout')) };
}

function readBlob(f: string): Buffer {
  return execFileSync('cat', [f], { maxBuffer: 1 << 28 });
}
function overwriteBlob(dir: string, digest: string, bytes: Buffer): void {
  writeFileSync(join(dir, 'blobs/sha256', digest.slice(7)), bytes);
}
function truncateBlob(dir: string, digest: string, r: Random): void {
  const f = join(dir, 'blobs/sha256', digest.slice(7));
  const b = readBlob(f);
  writeFileSync(f, b.subarray(0, r.int(1, b.length - 1)));
}
function removeBlob(dir: string, digest: string): void {
  execFileSync('rm', ['-f', join(dir, 'blobs/sha256', digest.slice(7))]);
}

/** index.json, the manifest or the config wrong: types, digests, sizes, media types, nesting. */
function brokenLayoutJsonCase(r: Random): ImageCase {
  const tar = innocent(r);
  const wrong = (): Json => r.pick<Json>([null, 1, -1, 'x', true, [], {}, [null], [1], ['x'], { a: 1 }]);
  const options: [string, LayoutSpoilers][] = [
    ['index.json that is not JSON', { indexText: r.pick(['', '{', 'null', '[]', '{"manifests":', 'x'.repeat(50)]) }],
    ['index.json manifests of the wrong type', { index: (i) => { i['manifests'] = wrong(); } }],
    ['a manifest descriptor of the wrong type', { index: (i) => { i['manifests'] = [wrong()]; } }],
    ['a manifest descriptor field of the wrong type', { index: (i) => {
      // Values each field may not take (an empty map is a valid annotations or platform).
      const field = r.pick(['digest', 'size', 'mediaType', 'annotations', 'platform']);
      const bad: Record<string, Json[]> = { annotations: [1, 'x', [], [1], { a: 1 }, true], platform: [1, 'x', [], { os: 1 }, true] };
      (i['manifests'] as JsonObject[])[0]![field] = bad[field] ? r.pick(bad[field]) : wrong();
    } }],
    ['a malformed manifest digest', { index: (i) => { (i['manifests'] as JsonObject[])[0]!['digest'] = r.pick(['sha256:zz', 'md5:abc', 'sha256:', `sha256:${'a'.repeat(64)}/../../x`, '../../../etc/passwd', 'sha256:../../../../etc']); } }],
    ['a manifest size that is not its size', { index: (i) => { (i['manifests'] as JsonObject[])[0]!['size'] = r.pick([0, 1, -5, 1e12, 1.5, 2 ** 53 + 1]); } }],
    ['a manifest of the wrong type', { manifest: (m) => { m[r.pick(['layers', 'config'])] = wrong(); } }],
    ['a layer descriptor of the wrong type', { manifest: (m) => { m['layers'] = [wrong()]; } }],
    ['a layer descriptor field of the wrong type', { manifest: (m) => { (m['layers'] as JsonObject[])[0]![r.pick(['digest', 'size', 'mediaType'])] = wrong(); } }],
    ['an unknown layer media type', { manifest: (m) => { (m['layers'] as JsonObject[])[0]!['mediaType'] = r.pick(['application/x-tar', 'text/plain', '']); } }],
    ['a config of the wrong type', { config: (c) => {
      // null is a valid `config`, and any string a valid `os`.
      const [field, values] = r.pick<[string, Json[]]>([['rootfs', [null, 1, 'x', [], {}]], ['config', [1, 'x', true, [], [null], { Cmd: 'sh' }, { Env: [1] }]], ['os', [1, true, [], {}]]]);
      c[field] = r.pick(values);
    } }],
    ['diff_ids of the wrong type or count', { config: (c) => { (c['rootfs'] as JsonObject)['diff_ids'] = r.pick<Json>([[], ['sha256:x'], [1], 'x', null, [`sha256:${'b'.repeat(64)}`, `sha256:${'c'.repeat(64)}`]]); } }],
    ['a config descriptor of the wrong type', { manifest: (m, b) => { m['config'] = r.pick<Json>([null, 'x', 1, { ...b.config }, { mediaType: 'application/vnd.oci.image.config.v1+json', digest: b.config.digest }]); } }],
    ['image indexes nested in a loop or too deep', { index: (i, put) => {
      let top = (i['manifests'] as JsonObject[])[0]!;
      for (let n = 0; n < 6; n++) {
        const inner = put(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, platform: { os: 'linux', architecture: 'amd64' } }] })));
        top = { mediaType: 'application/vnd.oci.image.index.v1+json', ...inner };
      }
      i['manifests'] = [top];
    } }],
    ['an index without a linux/amd64 manifest', { index: (i, put) => {
      const inner = put(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ ...(i['manifests'] as JsonObject[])[0]!, platform: { os: 'windows', architecture: 'arm' } }, { mediaType: 'x', digest: 'sha256:1', size: 1 }] })));
      i['manifests'] = [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...inner }];
    } }],
    ['JSON blobs nested deeply', { configText: (t) => { const n = r.pick([65, 1000, 20_000, 200_000]); return `${t.slice(0, -1)},"deep":${'['.repeat(n)}${']'.repeat(n)}}`; } }],
    ['no oci-layout file', { after: (d) => execFileSync('rm', ['-f', join(d, 'oci-layout')]) }],
    ['an oci-layout of the wrong type', { after: (d) => writeFileSync(join(d, 'oci-layout'), r.pick(['{"imageLayoutVersion":1}', '[]', 'x', '{}'])) }],
    ['a manifest blob that is missing', { after: (d, p) => removeBlob(d, p.manifestDigest) }],
    ['a config blob that is not JSON', { after: (d, p) => overwriteBlob(d, p.configDigest, Buffer.from('{"rootfs":')) }],
  ];
  const [what, spoil] = r.pick(options);
  return { what, expect: 'invalid', write: (dir) => writeLayout(join(dir, 'layout'), [tar], 'gzip', spoil) };
}

/** docker archives whose manifest.json or members are wrong. */
function brokenDockerCase(r: Random): ImageCase {
  const tar = innocent(r);
  const wrong = (): Json => r.pick<Json>([null, 1, 'x', true, [], {}, [null], [1]]);
  const options: [string, Parameters<typeof writeDockerArchive>[3]][] = [
    ['manifest.json that is not JSON', { manifest: () => r.pick(['', '{', 'x', '[{"Config":']) }],
    ['manifest.json of the wrong type', { manifest: () => r.pick<Json>([null, {}, 1, 'x', [], [null], [1], ['x']]) }],
    ['a manifest entry field of the wrong type', { manifest: (m) => {
      // RepoTags may be null or empty.
      const [field, values] = r.pick<[string, Json[]]>([['Config', [null, 1, true, [], {}]], ['Layers', [null, 1, 'x', true, {}, [null], [1]]], ['RepoTags', [1, 'x', true, {}, [null], [1]]]]);
      (m[0] as JsonObject)[field] = r.pick(values);
      return m;
    } }],
    ['a layer name that leaves the archive', { manifest: (m) => { (m[0] as JsonObject)['Layers'] = [r.pick(['../../etc/passwd', '/etc/passwd', 'nothing.tar', ''])]; return m; } }],
    ['a config name that is no digest', { manifest: (m) => { (m[0] as JsonObject)['Config'] = r.pick(['config.json', '../x.json', `${'a'.repeat(64)}.json`]); return m; } }],
    ['diff_ids that do not match', { config: (c) => { (c['rootfs'] as JsonObject)['diff_ids'] = r.pick<Json>([[], [`sha256:${'d'.repeat(64)}`], ['x'], 'x']); } }],
    ['a truncated archive', { truncate: r.int(1, 2000) }],
  ];
  const [what, spoil] = r.pick(options);
  const gzip = r.chance(0.3);
  return { what: `${what} (docker archive${gzip ? ', gzip' : ''})`, expect: 'invalid', write: (dir) => writeDockerArchive(join(dir, 'image.tar'), [tar], gzip, spoil) };
}

/** A gzip'd docker archive whose gzip stream is broken. */
export function brokenGzipArchive(r: Random): ImageCase {
  return {
    what: 'a docker archive whose gzip stream is broken',
    expect: 'invalid',
    write: (dir) => {
      const file = writeDockerArchive(join(dir, 'image.tar.gz'), [innocent(r)], true);
      const b = readBlob(file);
      writeFileSync(file, r.chance(0.5) ? b.subarray(0, r.int(2, b.length - 1)) : Buffer.concat([b.subarray(0, 10), Buffer.from(r.string(100, 'q'))]));
      return file;
    },
  };
}
