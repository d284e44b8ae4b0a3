// `docker save` archives: a tar (maybe gzipped) holding manifest.json, the image config and one tar
// per layer. Old docker writes `<id>/layer.tar` + `<config hex>.json`; docker 25+ writes an OCI
// layout inside (`blobs/sha256/<hex>`). Both are read through the same manifest.json. archive.ts
// tells them from OCI archives and opens the tar.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { basename } from 'node:path';
import { TsrunError } from '../errors.js';
import { digestHex, verifyBuffer } from './digest.js';
import type { TarMember } from './tar-index.js';
import { readMember, type TarFile } from './tar-file.js';
import type { ImageConfig } from './types.js';
import { MAX_JSON_BLOB, type LayerSource, type ResolvedImage } from './source.js';
import { checkDockerManifest, checkImageConfig } from './document-shapes.js';
import { parseJson } from './oci-layout.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
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
 * The image in a docker archive (`tar`, already indexed: tar-file.ts) with a manifest.json; `file`
 * is the archive as named, for messages and the default name.
 */
export function readDockerArchive(file: string, tar: TarFile, tag?: string): ResolvedImage {
  const tarPath = tar.path;
  try {
    const member = (name: string): TarMember => {
      const m = tar.members.get(name.replace(/^(\.\/)+/, ''));
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
    return { id: configDigest, configDigest, config, layers, names, close: async () => {} };
  } catch (e) {
    if (e instanceof SyntaxError) throw new TsrunError(`${file}: broken JSON in the archive`, { file, cause: e });
    throw e;
  }
}
