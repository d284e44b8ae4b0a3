// Image archives, told apart by what the tar holds: a docker archive (`docker save`, skopeo's
// `docker-archive:`) has manifest.json; an OCI archive (skopeo's `oci-archive:`, a tar of an OCI
// image layout) has oci-layout and index.json. Either may be gzipped. docker 25+ writes both kinds
// of index; its manifest.json is read, as before.
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import { TsrunError } from '../errors.js';
import { readDockerArchive } from './docker-archive.js';
import { readLayout, type LayoutFiles } from './oci-layout.js';
import type { ResolvedImage } from './source.js';
import { openTarFile, readMember, type TarFile } from './tar-file.js';

/** The layout in an OCI archive, its blobs read in place in the tar. */
function tarLayoutFiles(file: string, tar: TarFile): LayoutFiles {
  return {
    where: file,
    async read(name) {
      const m = tar.members.get(name);
      return m && readMember(tar.path, m);
    },
    locate(name) {
      const m = tar.members.get(name);
      return m && { path: tar.path, start: m.offset, length: m.size };
    },
  };
}

function isOciArchive(tar: TarFile): boolean {
  const marker = tar.members.get('oci-layout');
  if (!marker || !tar.members.has('index.json') || marker.size > 4096) return false;
  try {
    return typeof (JSON.parse(readMember(tar.path, marker).toString('utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion === 'string';
  } catch {
    return false;
  }
}

/**
 * Opens the image archive `file` (+ optional tag). `scratchDir` is an empty private directory,
 * removed by the image's close(); a gzipped archive is inflated into it first.
 */
export async function openArchive(file: string, scratchDir: string, tag?: string): Promise<ResolvedImage> {
  const close = async (): Promise<void> => { rmSync(scratchDir, { recursive: true, force: true }); };
  try {
    const tar = await openTarFile(file, scratchDir);
    let image: ResolvedImage;
    if (tar.members.has('manifest.json')) image = readDockerArchive(file, tar, tag);
    else if (isOciArchive(tar)) image = await readLayout(tarLayoutFiles(file, tar), basename(file).replace(/(\.oci)?\.tar(\.gz)?$|\.tgz$/, ''), tag);
    else throw new TsrunError(`${file}: neither a docker archive (manifest.json) nor an OCI archive (oci-layout, index.json)`, { file });
    return { ...image, close };
  } catch (e) {
    await close();
    throw e;
  }
}
