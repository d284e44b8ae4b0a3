// Reading an OCI image layout: `oci-layout`, `index.json`, `blobs/sha256/<hex>`, in a directory or
// in a tar (an OCI archive, skopeo's `oci-archive:`; archive.ts), read in place through LayoutFiles.
// A tag selects a manifest by its `org.opencontainers.image.ref.name` annotation; image indexes are
// followed to the linux/amd64 manifest. Every blob read is checked against its descriptor.
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { TsrunError } from '../errors.js';
import { digestHex, verifyBuffer } from './digest.js';
import { LAYER_MEDIA_TYPES, MEDIA, REF_NAME_ANNOTATION, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from './types.js';
import { MAX_JSON_BLOB, type LayerSource, type ResolvedImage } from './source.js';
import { checkImageConfig, checkIndex, checkManifest } from './document-shapes.js';
import { MAX_JSON_DEPTH, tooDeepAt } from '../oci/json-limits.js';
import { basename, resolve } from 'node:path';

/** Where a layout's files lie: a directory's files, or the members of a tar. */
export interface LayoutFiles {
  /** The directory or the archive, for messages. */
  where: string;
  /** The bytes of a file of the layout (`index.json`, `blobs/sha256/<hex>`), or undefined if it has none. */
  read(name: string): Promise<Buffer | undefined>;
  /** Where a file's bytes lie on disk, or undefined if the layout has no such file. */
  locate(name: string): { path: string; start: number; length: number } | undefined;
}

const isMissing = (e: unknown): boolean => ['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '');

export function directoryFiles(dir: string): LayoutFiles {
  return {
    where: dir,
    async read(name) {
      try { return await readFile(`${dir}/${name}`); } catch (e) { if (isMissing(e)) return undefined; throw e; }
    },
    locate(name) {
      try { return { path: `${dir}/${name}`, start: 0, length: statSync(`${dir}/${name}`).size }; } catch (e) { if (isMissing(e)) return undefined; throw e; }
    },
  };
}

const WANT = { os: 'linux', architecture: 'amd64' };

export function isOciLayout(dir: string): boolean {
  try {
    const v = JSON.parse(readFileSync(`${dir}/oci-layout`, 'utf8')) as { imageLayoutVersion?: unknown };
    return typeof v.imageLayoutVersion === 'string';
  } catch {
    return false;
  }
}

/** A blob's name in a layout. */
export function blobName(digest: string): string {
  return `blobs/sha256/${digestHex(digest)}`;
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
export async function readJsonBlob<T>(files: LayoutFiles, d: Descriptor): Promise<T> {
  if (!(d.size >= 0 && d.size <= MAX_JSON_BLOB)) throw new TsrunError(`blob ${d.digest}: implausible size ${d.size} for a JSON document`, { file: d.digest });
  // Sized before it is read: a blob longer than its descriptor says is refused without reading it.
  const at = files.locate(blobName(d.digest));
  if (at !== undefined && at.length !== d.size) throw new TsrunError(`blob ${d.digest}: size ${at.length} does not match the expected ${d.size}`, { file: d.digest });
  const data = at && await files.read(blobName(d.digest));
  if (data === undefined) throw new TsrunError(`blob ${d.digest} is missing from the layout ${files.where}`, { file: d.digest });
  verifyBuffer(data, d.digest, d.size);
  return parseJson<T>(data, `blob ${d.digest}`);
}

async function readIndex(files: LayoutFiles): Promise<ImageIndex> {
  const where = `${files.where}/index.json`;
  const data = await files.read('index.json');
  if (data === undefined) throw new TsrunError(`${files.where}: no index.json (not an OCI image layout)`, { file: where });
  if (data.length > MAX_JSON_BLOB) throw new TsrunError(`${where}: implausibly large`, { file: where });
  return checkIndex<ImageIndex>(parseJson(data, where), where);
}

/** Tags (ref.name annotations) a layout offers. */
export async function layoutTags(dir: string): Promise<string[]> {
  return (await readIndex(directoryFiles(dir))).manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).filter((t): t is string => !!t);
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
async function resolveManifest(files: LayoutFiles, d: Descriptor, depth = 0): Promise<{ desc: Descriptor; manifest: ImageManifest }> {
  if (depth > 4) throw new TsrunError(`blob ${d.digest}: image indexes nested too deep`, { file: d.digest });
  if (d.mediaType === MEDIA.ociIndex || d.mediaType === MEDIA.dockerList) {
    const idx = checkIndex<ImageIndex>(await readJsonBlob(files, d), `blob ${d.digest}`);
    return resolveManifest(files, pickPlatform(idx, d.digest), depth + 1);
  }
  if (d.mediaType !== MEDIA.ociManifest && d.mediaType !== MEDIA.dockerManifest) {
    throw new TsrunError(`blob ${d.digest}: unknown media type ${d.mediaType}`, { file: d.digest });
  }
  const manifest = checkManifest<ImageManifest>(await readJsonBlob(files, d), `blob ${d.digest}`);
  return { desc: d, manifest };
}

function layerSource(files: LayoutFiles, d: Descriptor, diffId: string): LayerSource {
  const compression = LAYER_MEDIA_TYPES[d.mediaType];
  if (compression === undefined) throw new TsrunError(`blob ${d.digest}: unknown layer media type ${d.mediaType}`, { file: d.digest });
  const at = files.locate(blobName(d.digest));
  return {
    diffId, digest: d.digest, size: d.size, mediaType: d.mediaType, compression,
    // Read in place only if the blob is exactly as long as declared: a longer one must fail its check.
    ...(at?.length === d.size ? { file: at } : {}),
    open(): Readable {
      // Checked here so the error names the blob rather than a raw path.
      if (!at) throw new TsrunError(`blob ${d.digest} is missing from the layout ${files.where}`, { file: d.digest });
      // createReadStream cannot express an empty range (end < start).
      if (at.length === 0) return Readable.from([]);
      return createReadStream(at.path, { start: at.start, end: at.start + at.length - 1, highWaterMark: 1 << 20 });
    },
  };
}

/** Resolves the layout directory `dir` (+ optional tag) to a verified manifest and config, with a source for each layer. */
export async function openOciLayout(dir: string, tag?: string): Promise<ResolvedImage> {
  if (!isOciLayout(dir)) throw new TsrunError(`${dir}: not an OCI image layout (no oci-layout file)`, { file: dir });
  return readLayout(directoryFiles(dir), basename(resolve(dir)), tag);
}

/**
 * The image of a layout (+ optional tag), wherever its files lie. `baseName` names an image whose
 * ref.name is a bare tag (or absent): `<baseName>:<tag>`.
 */
export async function readLayout(files: LayoutFiles, baseName: string, tag?: string): Promise<ResolvedImage> {
  const top = pickByTag(await readIndex(files), files.where, tag);
  const { desc, manifest } = await resolveManifest(files, top);
  if (manifest.config.mediaType !== MEDIA.ociConfig && manifest.config.mediaType !== MEDIA.dockerConfig) {
    throw new TsrunError(`blob ${manifest.config.digest}: unknown config media type ${manifest.config.mediaType}`, { file: manifest.config.digest });
  }
  const config = checkImageConfig<ImageConfig>(await readJsonBlob(files, manifest.config), `blob ${manifest.config.digest}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new TsrunError(`blob ${manifest.config.digest}: ${diffIds.length} diff_ids for ${manifest.layers.length} layers`, { file: manifest.config.digest });
  }
  const layers = manifest.layers.map((l, i) => layerSource(files, l, diffIds[i]!));
  const tagName = top.annotations?.[REF_NAME_ANNOTATION] ?? tag;
  return {
    id: desc.digest,
    configDigest: manifest.config.digest,
    config,
    layers,
    names: [tagName && /[:/]/.test(tagName) ? tagName : `${baseName}:${tagName ?? 'latest'}`],
    close: async () => {},
  };
}
