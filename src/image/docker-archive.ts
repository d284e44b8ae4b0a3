// `docker save` archives: a tar (maybe gzipped) holding manifest.json, the image config and one tar
// per layer. Old docker writes `<id>/layer.tar` + `<config hex>.json`; docker 25+ writes an OCI
// layout inside (`blobs/sha256/<hex>`). Both are read through the same manifest.json.
import { createReadStream, createWriteStream, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { basename } from 'node:path';
import { TsrunError } from '../errors.js';
import { digestHex, verifyBuffer } from './digest.js';
import { indexTar, type TarMember } from './tar-index.js';
import type { ImageConfig } from './types.js';
import { MAX_JSON_BLOB, type LayerSource, type ResolvedImage } from './source.js';
import { checkDockerManifest, checkImageConfig } from './document-shapes.js';
import { parseJson } from './oci-layout.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

export function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

function readMember(path: string, m: TarMember): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(m.size);
    readSync(fd, b, 0, m.size, m.offset);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** The sha256 a member's name promises: `blobs/sha256/<hex>` or `<hex>.json`. */
function digestFromName(name: string): string | undefined {
  const m = /(?:^|\/)(?:blobs\/sha256\/)?([a-f0-9]{64})(?:\.json)?$/.exec(name);
  return m ? `sha256:${m[1]}` : undefined;
}

function pickEntry(entries: DockerManifestEntry[], file: string, tag?: string): DockerManifestEntry {
  if (tag === undefined) {
    if (entries.length === 1) return entries[0]!;
    throw new TsrunError(`${file} holds ${entries.length} images: name one (${entries.flatMap((e) => e.RepoTags ?? []).join(', ')})`, { file });
  }
  const want = tag.includes(':') ? tag : `${tag}:latest`;
  const found = entries.find((e) => e.RepoTags?.includes(want) || e.RepoTags?.some((t) => t.endsWith(`:${tag}`)));
  if (!found) throw new TsrunError(`${file}: no image tagged '${tag}'`, { file });
  return found;
}

/**
 * Opens a docker archive. `scratchDir` is an empty private directory, removed by close(); a gzipped
 * archive is inflated into it first.
 */
export async function openDockerArchive(file: string, scratchDir: string, tag?: string): Promise<ResolvedImage> {
  let tarPath = file;
  const close = async (): Promise<void> => { rmSync(scratchDir, { recursive: true, force: true }); };
  try {
    if (isGzipFile(file)) {
      tarPath = `${scratchDir}/archive.tar`;
      try {
        await pipeline(createReadStream(file), createGunzip(), createWriteStream(tarPath));
      } catch (e) {
        // zlib's errors ("unexpected end of file", "invalid stored block lengths") name no file.
        throw new TsrunError(`${file}: broken gzip: ${(e as Error).message}`, { file, cause: e });
      }
    }
    const toc = indexTar(tarPath);
    const member = (name: string): TarMember => {
      const m = toc.get(name.replace(/^(\.\/)+/, ''));
      if (!m) throw new TsrunError(`${file}: ${JSON.stringify(name)} is missing from the archive`, { file: name });
      return m;
    };
    const manifestMember = member('manifest.json');
    if (manifestMember.size > MAX_JSON_BLOB) throw new TsrunError(`${file}: manifest.json is implausibly large`, { file });
    const entries = checkDockerManifest<DockerManifestEntry[]>(parseJson(readMember(tarPath, manifestMember), `${file}: manifest.json`), `${file}: manifest.json`);
    if (entries.length === 0) throw new TsrunError(`${file}: manifest.json lists no image`, { file });
    const entry = pickEntry(entries, file, tag);

    const cfgMember = member(entry.Config);
    if (cfgMember.size > MAX_JSON_BLOB) throw new TsrunError(`${file}: ${entry.Config} is implausibly large`, { file: entry.Config });
    const cfgBytes = readMember(tarPath, cfgMember);
    const configDigest = digestFromName(entry.Config);
    if (!configDigest) throw new TsrunError(`${file}: config ${entry.Config} is not named by its digest`, { file: entry.Config });
    verifyBuffer(cfgBytes, configDigest);
    const config = checkImageConfig<ImageConfig>(parseJson(cfgBytes, `blob ${configDigest}`), `blob ${configDigest}`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== entry.Layers.length) throw new TsrunError(`blob ${configDigest}: ${diffIds.length} diff_ids for ${entry.Layers.length} layers`, { file: configDigest });

    const layers: LayerSource[] = entry.Layers.map((name, i) => {
      const m = member(name);
      const diffId = diffIds[i]!;
      digestHex(diffId, 'diff_id');
      const digest = digestFromName(name);
      return {
        diffId,
        ...(digest && name.startsWith('blobs/') ? { digest } : {}),
        size: m.size,
        file: { path: tarPath, start: m.offset, length: m.size },
        mediaType: 'docker-archive layer',
        compression: 'detect',
        // createReadStream cannot express an empty range (end < start).
        open: () => (m.size === 0 ? Readable.from([]) : createReadStream(tarPath, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 })),
      };
    });
    const names = entry.RepoTags?.length ? [...entry.RepoTags] : [`${basename(file).replace(/\.tar(\.gz)?$/, '')}:latest`];
    return { id: configDigest, configDigest, config, layers, names, close };
  } catch (e) {
    await close();
    if (e instanceof SyntaxError) throw new TsrunError(`${file}: broken JSON in the archive`, { file, cause: e });
    throw e;
  }
}
