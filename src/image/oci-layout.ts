// Reading an OCI image layout directory: `oci-layout`, `index.json`, `blobs/sha256/<hex>`.
// A tag selects a manifest by its `org.opencontainers.image.ref.name` annotation; image indexes are
// followed to the linux/amd64 manifest. Every blob read is checked against its descriptor.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { TsrunError } from '../errors.js';
import { digestHex, verifyBuffer } from './digest.js';
import { LAYER_MEDIA_TYPES, MEDIA, REF_NAME_ANNOTATION, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from './types.js';
import { MAX_JSON_BLOB, type LayerSource, type ResolvedImage } from './source.js';
import { checkImageConfig, checkIndex, checkManifest } from './document-shapes.js';
import { MAX_JSON_DEPTH, tooDeepAt } from '../oci/json-limits.js';
import { basename, resolve } from 'node:path';

const WANT = { os: 'linux', architecture: 'amd64' };

export function isOciLayout(dir: string): boolean {
  try {
    const v = JSON.parse(readFileSync(`${dir}/oci-layout`, 'utf8')) as { imageLayoutVersion?: unknown };
    return typeof v.imageLayoutVersion === 'string';
  } catch {
    return false;
  }
}

export function blobPath(dir: string, digest: string): string {
  return `${dir}/blobs/sha256/${digestHex(digest)}`;
}

export function parseJson<T>(buf: Buffer, what: string): T {
  const text = buf.toString('utf8');
  // Image documents nest a few levels; a deeper one is refused before anything walks or stores it.
  if (tooDeepAt(text, MAX_JSON_DEPTH) !== undefined) throw new TsrunError(`${what}: JSON nested more than ${MAX_JSON_DEPTH} levels deep`, { file: what });
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new TsrunError(`${what}: not valid JSON`, { file: what, cause: e });
  }
}

/** Reads a small blob whole and checks it against its descriptor. */
export async function readJsonBlob<T>(dir: string, d: Descriptor): Promise<T> {
  if (!(d.size >= 0 && d.size <= MAX_JSON_BLOB)) throw new TsrunError(`blob ${d.digest}: implausible size ${d.size} for a JSON document`, { file: d.digest });
  const path = blobPath(dir, d.digest); // refuses a malformed digest: not "missing"
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (e) {
    throw new TsrunError(`blob ${d.digest} is missing from the layout ${dir}`, { file: d.digest, cause: e });
  }
  verifyBuffer(data, d.digest, d.size);
  return parseJson<T>(data, `blob ${d.digest}`);
}

async function readIndex(dir: string): Promise<ImageIndex> {
  let data: Buffer;
  try {
    data = await readFile(`${dir}/index.json`);
  } catch (e) {
    throw new TsrunError(`${dir}: no index.json (not an OCI image layout)`, { file: `${dir}/index.json`, cause: e });
  }
  return checkIndex<ImageIndex>(parseJson(data, `${dir}/index.json`), `${dir}/index.json`);
}

/** Tags (ref.name annotations) a layout offers. */
export async function layoutTags(dir: string): Promise<string[]> {
  return (await readIndex(dir)).manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).filter((t): t is string => !!t);
}

function pickByTag(idx: ImageIndex, dir: string, tag?: string): Descriptor {
  const ms = idx.manifests;
  if (tag === undefined) {
    if (ms.length === 1) return ms[0]!;
    tag = 'latest';
  }
  // Some tools write a whole reference (`docker.io/library/busybox:1.36`) rather than the tag.
  const found = ms.find((m) => m.annotations?.[REF_NAME_ANNOTATION] === tag)
    ?? ms.find((m) => m.annotations?.[REF_NAME_ANNOTATION]?.endsWith(`:${tag}`));
  if (found) return found;
  const tags = ms.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).filter(Boolean);
  throw new TsrunError(`${dir}: no image tagged '${tag}' (tags: ${tags.join(', ') || 'none'})`, { file: `${dir}/index.json` });
}

function pickPlatform(idx: ImageIndex, from: string): Descriptor {
  const match = idx.manifests.find((m) => m.platform?.os === WANT.os && m.platform.architecture === WANT.architecture);
  if (match) return match;
  if (idx.manifests.length === 1 && !idx.manifests[0]!.platform) return idx.manifests[0]!;
  throw new TsrunError(`image index ${from} has no ${WANT.os}/${WANT.architecture} manifest`, { file: from });
}

/** Follows index descriptors down to one image manifest. */
async function resolveManifest(dir: string, d: Descriptor, depth = 0): Promise<{ desc: Descriptor; manifest: ImageManifest }> {
  if (depth > 4) throw new TsrunError(`blob ${d.digest}: image indexes nested too deep`, { file: d.digest });
  if (d.mediaType === MEDIA.ociIndex || d.mediaType === MEDIA.dockerList) {
    const idx = checkIndex<ImageIndex>(await readJsonBlob(dir, d), `blob ${d.digest}`);
    return resolveManifest(dir, pickPlatform(idx, d.digest), depth + 1);
  }
  if (d.mediaType !== MEDIA.ociManifest && d.mediaType !== MEDIA.dockerManifest) {
    throw new TsrunError(`blob ${d.digest}: unknown media type ${d.mediaType}`, { file: d.digest });
  }
  const manifest = checkManifest<ImageManifest>(await readJsonBlob(dir, d), `blob ${d.digest}`);
  return { desc: d, manifest };
}

function layerSource(dir: string, d: Descriptor, diffId: string): LayerSource {
  const compression = LAYER_MEDIA_TYPES[d.mediaType];
  if (compression === undefined) throw new TsrunError(`blob ${d.digest}: unknown layer media type ${d.mediaType}`, { file: d.digest });
  const path = blobPath(dir, d.digest);
  // Read in place only if the file is exactly as long as declared: a longer one must fail its check.
  const exact = (() => { try { return statSync(path).size === d.size; } catch { return false; } })();
  return {
    diffId, digest: d.digest, size: d.size, mediaType: d.mediaType, compression,
    ...(exact ? { file: { path, start: 0, length: d.size } } : {}),
    open(): Readable {
      // Checked here so the error names the blob rather than a raw path.
      if (!existsSync(path)) throw new TsrunError(`blob ${d.digest} is missing from the layout ${dir}`, { file: d.digest });
      return createReadStream(path, { highWaterMark: 1 << 20 });
    },
  };
}

/** Resolves `dir` (+ optional tag) to a verified manifest and config, with a source for each layer. */
export async function openOciLayout(dir: string, tag?: string): Promise<ResolvedImage> {
  if (!isOciLayout(dir)) throw new TsrunError(`${dir}: not an OCI image layout (no oci-layout file)`, { file: dir });
  const top = pickByTag(await readIndex(dir), dir, tag);
  const { desc, manifest } = await resolveManifest(dir, top);
  if (manifest.config.mediaType !== MEDIA.ociConfig && manifest.config.mediaType !== MEDIA.dockerConfig) {
    throw new TsrunError(`blob ${manifest.config.digest}: unknown config media type ${manifest.config.mediaType}`, { file: manifest.config.digest });
  }
  const config = checkImageConfig<ImageConfig>(await readJsonBlob(dir, manifest.config), `blob ${manifest.config.digest}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new TsrunError(`blob ${manifest.config.digest}: ${diffIds.length} diff_ids for ${manifest.layers.length} layers`, { file: manifest.config.digest });
  }
  const layers = manifest.layers.map((l, i) => layerSource(dir, l, diffIds[i]!));
  const tagName = top.annotations?.[REF_NAME_ANNOTATION] ?? tag;
  return {
    id: desc.digest,
    configDigest: manifest.config.digest,
    config,
    layers,
    names: [tagName && /[:/]/.test(tagName) ? tagName : `${basename(resolve(dir))}:${tagName ?? 'latest'}`],
    close: async () => {},
  };
}
