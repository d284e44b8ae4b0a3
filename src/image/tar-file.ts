// An image archive on disk as a plain tar with a table of contents: gzipped archives are inflated
// into a scratch directory first, so that every member can then be read or streamed in place.
import { closeSync, createReadStream, createWriteStream, openSync, readSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { TsrunError } from '../errors.js';
import { indexTar, type TarMember } from './tar-index.js';

export function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

export interface TarFile {
  /** The uncompressed tar: the archive itself, or its inflated copy in the scratch directory. */
  path: string;
  /** Members by name, without a leading `./`. */
  members: Map<string, TarMember>;
}

/** `file` as an uncompressed, indexed tar; a gzipped one is inflated into `scratchDir`. */
export async function openTarFile(file: string, scratchDir: string): Promise<TarFile> {
  let path = file;
  if (isGzipFile(file)) {
    path = `${scratchDir}/archive.tar`;
    try {
      await pipeline(createReadStream(file), createGunzip(), createWriteStream(path));
    } catch (e) {
      // zlib's errors ("unexpected end of file", "invalid stored block lengths") name no file.
      throw new TsrunError(`${file}: broken gzip: ${(e as Error).message}`, { file, cause: e });
    }
  }
  return { path, members: indexTar(path) };
}

export function readMember(path: string, m: TarMember): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(m.size);
    readSync(fd, b, 0, m.size, m.offset);
    return b;
  } finally {
    closeSync(fd);
  }
}
