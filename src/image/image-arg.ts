// An image named on the command line: a source on disk (`LAYOUT[:TAG]` or a docker archive) or an
// image in the store, and whether a source was already imported unchanged. Light on purpose: the
// second container of an image runs from the V8 startup snapshot without the import code.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { TsrunError } from '../errors.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { LayerPaths } from './store-paths.js';
import { namesRegistry, parseRegistryRef } from './registry/reference.js';

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

export function sourceStamp(path: string): { size: number; mtimeMs: number } {
  const st = statSync(statSync(path).isDirectory() ? `${path}/index.json` : path);
  return { size: st.size, mtimeMs: st.mtimeMs };
}

function unchanged(rec: ImageRecord, path: string, tag: string | undefined, layers: LayerPaths): boolean {
  const s = rec.source;
  if (!s || s.path !== path || s.tag !== tag) return false;
  const now = sourceStamp(path);
  return now.size === s.size && now.mtimeMs === s.mtimeMs && rec.layers.every((l) => layers.has(l.diffId));
}

/** The record of `arg` (a source on disk) if it was imported and neither it nor its layers changed since. */
export function findImported(arg: string, storeDir: string, name?: string): ImageRecord | undefined {
  if (!isImageSource(arg)) return undefined;
  const { path, tag } = parseImageArg(arg);
  const layers = new LayerPaths(storeDir);
  const known = new ImageStore(storeDir).list().find((r) => unchanged(r, path, tag, layers));
  return known && (!name || known.names.includes(name)) ? known : undefined;
}

/** True if running `ref` must import it first: a source on disk not imported yet (or changed since). */
export function needsImport(ref: string | undefined, storeDir: string): boolean {
  return ref !== undefined && isImageSource(ref) && !findImported(ref, storeDir);
}

/**
 * The record of a registry reference already in the store with all its layers: by a name it was
 * recorded under, or (for `name@sha256:…`) by the digest it was pulled by or its manifest digest.
 */
export function findPulled(ref: string, storeDir: string): ImageRecord | undefined {
  const r = parseRegistryRef(ref);
  if (!r) return undefined;
  const images = new ImageStore(storeDir);
  let rec: ImageRecord | undefined;
  try { rec = images.lookup(ref)?.record; } catch { return undefined; } // ambiguous: the run reports it
  const repo = `${r.registry}/${r.repository}`;
  rec ??= r.digest === undefined ? undefined
    : images.list().find((x) => x.pulled?.repository === repo && (x.pulled.digest === r.digest || x.id === r.digest));
  const layers = new LayerPaths(storeDir);
  return rec && rec.layers.every((l) => layers.has(l.diffId)) ? rec : undefined;
}

/**
 * True if running `ref` must pull it first: a reference that names its registry (not a path, not a
 * short name) and that the store lacks. A short name (`busybox`) is pulled only by `image pull`:
 * a mistyped name given to `run` must not go looking on docker.io.
 */
export function needsPull(ref: string | undefined, storeDir: string): boolean {
  return ref !== undefined && namesRegistry(ref) && !isImageSource(ref) && parseRegistryRef(ref) !== undefined && !findPulled(ref, storeDir);
}
