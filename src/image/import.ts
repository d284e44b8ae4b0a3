// Importing an image: open the source (OCI layout or docker archive), unpack the layers the store
// lacks (verified while streaming), then write the image record. Importing the same unchanged
// source again reads nothing but a stat, which keeps `run --image` of a known image cheap.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import { openDockerArchive } from './docker-archive.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { DEFAULT_STORE, LayerStore } from './layer-store.js';
import { isOciLayout, openOciLayout } from './oci-layout.js';
import { withStoreLock } from './store-lock.js';
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

/** Splits `PATH[:TAG]`: a path that exists as written wins over a tag split. */
export function parseImageArg(arg: string): { path: string; tag?: string } {
  if (existsSync(arg)) return { path: resolve(arg) };
  const i = arg.lastIndexOf(':');
  if (i > 0 && !arg.slice(i + 1).includes('/') && existsSync(arg.slice(0, i))) {
    return { path: resolve(arg.slice(0, i)), tag: arg.slice(i + 1) };
  }
  throw new TsrunError(`${arg}: no such OCI layout or docker archive`, { file: arg });
}

/** True if `arg` names an image source on disk (as opposed to an image already in the store). */
export function isImageSource(arg: string): boolean {
  try { parseImageArg(arg); return true; } catch { return false; }
}

function sourceStamp(path: string): { size: number; mtimeMs: number } {
  const st = statSync(statSync(path).isDirectory() ? `${path}/index.json` : path);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

export async function openSource(path: string, tag: string | undefined, layers: LayerStore): Promise<ResolvedImage> {
  if (statSync(path).isDirectory()) {
    if (!isOciLayout(path)) throw new TsrunError(`${path}: a directory but not an OCI image layout`, { file: path });
    return openOciLayout(path, tag);
  }
  layers.cleanTmp();
  return openDockerArchive(path, layers.makeTmp(), tag);
}

function unchanged(rec: ImageRecord, path: string, tag: string | undefined, layers: LayerStore): boolean {
  const s = rec.source;
  if (!s || s.path !== path || s.tag !== tag) return false;
  const now = sourceStamp(path);
  return now.size === s.size && now.mtimeMs === s.mtimeMs && rec.layers.every((l) => layers.has(l.diffId));
}

/** Imports `PATH[:TAG]` into the store (default /var/lib/tsrun) and returns its record. */
export async function importImage(arg: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  const storeDir = opts.store ?? DEFAULT_STORE;
  return withStoreLock(storeDir, () => importWithLockHeld(arg, { ...opts, store: storeDir }), { create: true });
}

/** importImage for a caller that holds the store lock (store-lock.ts). */
export async function importWithLockHeld(arg: string, opts: ImportOptions = {}): Promise<ImageRecord> {
  const storeDir = opts.store ?? DEFAULT_STORE;
  const layers = new LayerStore(storeDir);
  const images = new ImageStore(storeDir);
  const { path, tag } = parseImageArg(arg);
  const known = images.list().find((r) => unchanged(r, path, tag, layers));
  if (known && (!opts.name || known.names.includes(opts.name))) return known;

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
