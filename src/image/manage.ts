// Store housekeeping and bundle writing behind `tsrun image ls|rm|prune|unpack`.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { TsrunError } from '../errors.js';
import { defaultSpec } from '../oci/default-spec.js';
import { liveContainerRefs } from './container-refs.js';
import { flattenLayers } from './flatten.js';
import { ImageStore, type ImageRecord } from './image-store.js';
import { LayerStore } from './layer-store.js';
import { LayerPaths } from './store-paths.js';
import { rootfsOfRecord } from './rootfs.js';
import { specFromImage } from './spec-from-image.js';
import { removeDeadScratch, withStoreLock } from './store-lock.js';
import { removeDeadPartials } from './registry/layer-lock.js';

export function listImages(storeDir: string): ImageRecord[] {
  return new ImageStore(storeDir).list();
}

/**
 * Removes an image record; its layers stay until `prune` (another image, or a container, may use
 * them). Named by one of several names, the image only loses that name (like `docker rmi`), and
 * `untagged` says so.
 */
export function removeImage(storeDir: string, ref: string): Promise<{ record: ImageRecord; untagged?: string }> {
  // Under the lock: an import saving another record rewrites records that lose a name to it.
  return withStoreLock(storeDir, () => {
    const images = new ImageStore(storeDir);
    const { record: rec, name } = images.match(ref);
    if (name && rec.names.length > 1) {
      images.save({ ...rec, names: rec.names.filter((n) => n !== name) });
      return { record: rec, untagged: name };
    }
    images.remove(rec.id);
    return { record: rec };
  });
}

/**
 * Deletes every layer that neither an image record nor a live container (container-refs.ts)
 * references, scratch dirs of dead importers (store-lock.ts) and partial layers of dead pulls
 * (registry/layer-lock.ts). Waits for a running import: its layers are
 * recorded only at its end.
 */
export function pruneLayers(storeDir: string): Promise<string[]> {
  return withStoreLock(storeDir, async () => {
    const layers = new LayerStore(storeDir);
    await removeDeadScratch(storeDir);
    await removeDeadPartials(storeDir);
    const used = new Set([
      ...new ImageStore(storeDir).list().flatMap((r) => r.layers.map((l) => l.diffId)),
      ...liveContainerRefs(storeDir).flatMap((c) => c.diffIds),
    ]);
    const removed: string[] = [];
    for (const d of layers.list()) {
      if (used.has(d)) continue;
      await layers.remove(d);
      removed.push(d);
    }
    return removed;
  });
}

/**
 * Writes an OCI bundle: `rootfs/` holding the image's layers flattened into plain files (no
 * overlay needed to run it) and a `config.json` generated from the image config. Holds the store
 * lock while it reads the layers.
 */
export function unpackBundle(storeDir: string, ref: string, bundleDir: string, args?: string[]): Promise<{ config: string; rootfs: string }> {
  return withStoreLock(storeDir, () => {
    const rec = new ImageStore(storeDir).get(ref);
    const { lowerDirs, imageConfig } = rootfsOfRecord(rec, storeDir);
    const rootfs = `${bundleDir}/rootfs`;
    const config = `${bundleDir}/config.json`;
    if (existsSync(rootfs) && readdirSync(rootfs).length > 0) throw new TsrunError(`${rootfs} exists and is not empty`, { file: rootfs });
    if (existsSync(config)) throw new TsrunError(`${config} already exists; remove it first`, { file: config });
    const made = !existsSync(rootfs);
    mkdirSync(rootfs, { recursive: true });
    try {
      flattenLayers(lowerDirs, rootfs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const shift = new LayerPaths(storeDir).shift;
      if (!shift || (code !== 'EACCES' && code !== 'EPERM')) throw e;
      if (made) rmSync(rootfs, { recursive: true, force: true });
      else for (const n of readdirSync(rootfs)) rmSync(`${rootfs}/${n}`, { recursive: true, force: true });
      // A user's store keeps the image's owners as its subordinate ids (owner-shift.ts): a file of
      // theirs that others may not read is not the user's to copy either.
      const user = userInfo().username;
      throw new TsrunError(`image unpack: ${code} from ${(e as NodeJS.ErrnoException).syscall ?? 'reading'} ${(e as NodeJS.ErrnoException).path ?? ''}: this store's layers keep the image's owners as ${user}'s subordinate ids, whose private files ${user} cannot read; run the image with \`tsrun run --image\` instead, or unpack it as root`, { ...(code ? { errno: code } : {}), cause: e });
    }
    const spec = specFromImage(imageConfig, defaultSpec({ terminal: false }), { ...(args?.length ? { args } : {}), lowerDirs: [rootfs] });
    spec.root = { path: 'rootfs', readonly: false };
    writeFileSync(config, JSON.stringify(spec, null, 2) + '\n', { flag: 'wx' });
    return { config, rootfs };
  });
}
