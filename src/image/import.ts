// Importing an image: open the source (OCI layout or docker archive), unpack the layers the store
// lacks (verified while streaming), then write the image record. Importing the same unchanged
// source again reads nothing but a stat, which keeps `run --image` of a known image cheap.
import { defaultStoreDir } from '../state/user-dirs.js';
import { statSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { findImported, parseImageArg, sourceStamp } from './image-arg.js';
import { openArchive } from './archive.js';
import { ImageStore, type ImageRecord } from './image-store.js';

export { isImageSource, parseImageArg } from './image-arg.js';
import { LayerStore } from './layer-store.js';
import { isOciLayout, openOciLayout } from './oci-layout.js';
import { removeDeadScratch, withStoreLock } from './store-lock.js';
import type { ResolvedImage } from './source.js';
import type { UnpackLimits } from './layer-unpack.js';

export interface ImportProgress {
  /** A layer begins; `cached` when the store already has it (nothing will be read). */
  layerStart(index: number, count: number, diffId: string, size: number | undefined, cached: boolean): void;
  bytes(n: number): void;
  layerDone(index: number): void;
}

export interface ImportOptions {
  store?: string;
  /** Extra name to give the image (besides the source's own tag). */
  name?: string;
  progress?: ImportProgress;
  limits?: Partial<UnpackLimits>;
}

export async function openSource(path: string, tag: string | undefined, layers: LayerStore): Promise<ResolvedImage> {
  if (statSync(path).isDirectory()) {
    if (!isOciLayout(path)) throw new TsrunError(`${path}: a directory but not an OCI image layout`, { file: path });
    return openOciLayout(path, tag);
  }
  return openArchive(path, layers.makeTmp(), tag);
}

/** Imports `PATH[:TAG]` into the store (default /var/lib/tsrun) and returns its record. */
export async function importImage(arg: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  const storeDir = opts.store ?? defaultStoreDir();
  return withStoreLock(storeDir, () => importWithLockHeld(arg, { ...opts, store: storeDir }), { create: true });
}

/** importImage for a caller that holds the store lock (store-lock.ts). */
export async function importWithLockHeld(arg: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  const storeDir = opts.store ?? defaultStoreDir();
  // What an importer killed half-way left (up to a partial layer) goes now, whatever the source.
  await removeDeadScratch(storeDir);
  const layers = new LayerStore(storeDir);
  const images = new ImageStore(storeDir);
  const known = findImported(arg, storeDir, opts.name);
  if (known) return known;
  const { path, tag } = parseImageArg(arg);
  const stamp = sourceStamp(path);
  const img = await openSource(path, tag, layers);
  try {
    const n = img.layers.length;
    for (let i = 0; i < n; i++) {
      const l = img.layers[i]!;
      const cached = layers.has(l.diffId);
      opts.progress?.layerStart(i, n, l.diffId, l.size, cached);
      if (!cached) await layers.add(l, opts.progress ? (b) => opts.progress!.bytes(b) : undefined, { limits: opts.limits ?? {} });
      opts.progress?.layerDone(i);
    }
    const rec: ImageRecord = {
      id: img.id,
      names: [...new Set([...img.names, ...(opts.name ? [opts.name] : [])])],
      configDigest: img.configDigest,
      config: img.config,
      layers: img.layers.map((l) => ({ diffId: l.diffId, ...(l.digest ? { digest: l.digest } : {}), mediaType: l.mediaType })),
      importedAt: new Date().toISOString(),
      source: { path, ...(tag !== undefined ? { tag } : {}), ...stamp },
    };
    images.save(rec);
    return rec;
  } finally {
    await img.close();
  }
}
