// The layer store: each layer unpacked once, by diff-id, under `<store>/layers/<hex>/root`, plus a
// short symlink `<store>/l/<prefix>` → that root so a mount can name many layers within one page.
// A layer is unpacked into `<store>/tmp/<pid>-…` and renamed into place only when complete (its
// layer.json written last inside it), so a crash never leaves a half layer that looks whole.
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readlinkSync, readSync, renameSync, rmSync, writeFileSync,
} from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Readable } from 'node:stream';
import { TsrunError } from '../errors.js';
import { LayerPaths, SHORT_MIN, type LayerInfo } from './store-paths.js';
import { BlobCheck, DigestCheck, digestHex, hashOffThread } from './digest.js';
import { decompressor, sniffCompression } from './decompress.js';
import { unpackLayer, type UnpackOptions, type UnpackResult } from './layer-unpack.js';
import { shiftKey, shiftOwners } from './owner-shift.js';
import { removeShiftedTree } from './remove-shifted.js';
import type { LayerSource } from './source.js';
import type { Compression } from './types.js';

export { DEFAULT_STORE, type LayerInfo } from './store-paths.js';

/** Waits for the first chunk of a stream, to sniff its compression, and hands back an equivalent stream. */
async function peek(src: Readable): Promise<{ head: Buffer; stream: Readable }> {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const head = await new Promise<Buffer>((resolve, reject) => {
    const onReadable = (): void => {
      const chunk = src.read() as Buffer | null;
      if (chunk === null) return;
      src.off('readable', onReadable);
      src.off('end', onEnd);
      resolve(chunk);
    };
    const onEnd = (): void => resolve(Buffer.alloc(0));
    src.on('readable', onReadable);
    src.once('end', onEnd);
    src.once('error', reject);
  });
  out.write(head);
  src.pipe(out);
  src.once('error', (e) => out.destroy(e));
  return { head, stream: out };
}

const READ_CHUNK = 1 << 20;

function sniffFile(file: { path: string; start: number; length: number }): Compression {
  const head = Buffer.alloc(4);
  const fd = openSync(file.path, 'r');
  try {
    const n = readSync(fd, head, 0, Math.min(4, file.length), file.start);
    return sniffCompression(head.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/**
 * An uncompressed layer lying in a file: read synchronously, each chunk hashed (its blob digest is its
 * diff-id) and then unpacked before the next read. No stream, no fresh buffer per chunk, no thread-pool
 * hop per read. With hashing on the worker, each chunk is read straight into a slot of its shared ring,
 * which the worker hashes while the unpacker parses it: the layer is copied once, by read(2).
 */
async function unpackUncompressedFile(
  src: LayerSource, file: { path: string; start: number; length: number }, root: string,
  onBytes: ((n: number) => void) | undefined, unpack: UnpackOptions,
): Promise<UnpackResult> {
  if (src.digest && src.digest !== src.diffId) {
    throw new TsrunError(`blob ${src.digest}: an uncompressed layer whose digest is not its diff_id ${src.diffId}`, { file: src.digest });
  }
  const check = new BlobCheck(src.diffId, file.length, 'layer diff_id', hashOffThread(file.length));
  async function* chunks(): AsyncGenerator<Buffer> {
    const fd = openSync(file.path, 'r');
    try {
      const own = check.offThread ? undefined : Buffer.allocUnsafe(READ_CHUNK);
      for (let pos = file.start, left = file.length; left > 0;) {
        const buf = own ?? await check.borrow()!;
        const n = readSync(fd, buf, 0, Math.min(buf.length, left), pos);
        if (n === 0) throw new TsrunError(`blob ${src.digest ?? src.diffId}: file ends early`, { file: file.path });
        pos += n;
        left -= n;
        const chunk = buf.subarray(0, n);
        await new Promise<void>((resolve, reject) => check.update(chunk, (err) => (err ? reject(err) : resolve())));
        onBytes?.(n);
        yield chunk;
      }
    } finally {
      closeSync(fd);
    }
  }
  try {
    const res = await unpackLayer(chunks(), root, unpack);
    await check.verify(); // before the caller moves the layer into place
    return res;
  } finally {
    check.close();
  }
}

export class LayerStore extends LayerPaths {
  private ensureDirs(): void {
    for (const d of ['layers', 'l', 'tmp', 'images']) mkdirSync(`${this.dir}/${d}`, { recursive: true, mode: 0o700 });
  }

  /**
   * A private scratch dir in the store (same file system, so a rename moves it into place). Made
   * and removed under the store lock, which is what tells a dead importer's apart (store-lock.ts).
   */
  makeTmp(): string {
    this.ensureDirs();
    return mkdtempSync(`${this.dir}/tmp/${process.pid}-`);
  }

  /**
   * Unpacks a layer unless present. Checks the blob digest (when known) and the diff-id while streaming;
   * on any failure nothing of the layer is kept. It is unpacked in a scratch dir made by makeTmp (the
   * caller holds the store lock), or in `scratch` (a path in the store that must not exist yet; a
   * pull, which holds only the layer's own lock, gives one: registry/layer-lock.ts).
   */
  async add(src: LayerSource, onBytes?: (n: number) => void, unpackOptions: UnpackOptions = {}, scratch?: string): Promise<LayerInfo> {
    if (this.has(src.diffId)) return this.info(src.diffId);
    // Unpacked with other owners (another id map, or before owners were shifted): unpacked again.
    if (this.complete(src.diffId)) await this.remove(src.diffId);
    const unpack: UnpackOptions = { ...unpackOptions, ...(this.shift ? { shift: this.shift } : {}) };
    if (scratch) { this.ensureDirs(); mkdirSync(scratch); }
    const tmp = scratch ?? this.makeTmp();
    try {
      mkdirSync(`${tmp}/root`);
      if (src.file && (src.compression === 'none' || (src.compression === 'detect' && sniffFile(src.file) === 'none'))) {
        const res = await unpackUncompressedFile(src, src.file, `${tmp}/root`, onBytes, unpack);
        return await this.commit(src, tmp, res);
      }
      let raw: Readable = src.open();
      let compression: Compression;
      if (src.compression === 'detect') {
        const p = await peek(raw);
        raw = p.stream;
        compression = sniffCompression(p.head);
      } else {
        compression = src.compression;
      }
      // An uncompressed blob is its own diff: hashing it twice would only double the cost.
      const sameBytes = compression === 'none' && src.digest === src.diffId;
      const big = hashOffThread(src.size);
      const blobCheck = src.digest && !sameBytes ? new DigestCheck(src.digest, src.size, 'blob', onBytes, big) : undefined;
      const diffCheck = new DigestCheck(src.diffId, sameBytes ? src.size : undefined, 'layer diff_id', blobCheck ? undefined : onBytes, big);
      const stages = [raw, ...(blobCheck ? [blobCheck] : []), decompressor(compression), diffCheck] as const;
      const flowing = pipeline(stages as unknown as [Readable, ...NodeJS.ReadWriteStream[]]);
      const [res] = await Promise.all([unpackLayer(diffCheck, `${tmp}/root`, unpack), flowing]);
      return await this.commit(src, tmp, res);
    } catch (e) {
      // Owners may be shifted already (a failed chown plan, a failed rename): removed in the user namespace then.
      await removeShiftedTree(tmp, this.shift).catch(() => undefined);
      // zlib/zstd/tar errors ("incorrect data check", a refused entry) must say which blob was bad.
      const blob = src.digest ?? src.diffId;
      const message = (e as Error).message;
      if (e instanceof TsrunError && (message.includes(blob) || message.includes(src.diffId))) throw e;
      const details = e instanceof TsrunError ? e.details : {};
      throw new TsrunError(`blob ${blob} (layer ${src.diffId}): ${message}`, { ...details, file: blob, cause: e });
    }
  }

  /**
   * Gives the files their shifted owners (a user's store with subordinate ids), then moves the
   * complete, verified layer from its scratch dir into place (layer.json last inside it).
   */
  private async commit(src: LayerSource, tmp: string, res: UnpackResult): Promise<LayerInfo> {
    if (this.shift && res.owned?.length) await shiftOwners(`${tmp}/root`, res.owned, this.shift);
    const key = shiftKey(this.shift);
    // The blob digest it came from: the compressed digest → diff-id mapping, for `image inspect` and tools.
    const info: LayerInfo = {
      diffId: src.diffId, ...(src.digest && src.digest !== src.diffId ? { digest: src.digest } : {}), entries: res.entries, bytes: res.bytes, importedAt: new Date().toISOString(),
      ...(key ? { idShift: key } : {}), ...(res.ownersNotKept ? { ownersNotKept: res.ownersNotKept } : {}),
    };
    writeFileSync(`${tmp}/${this.infoName()}`, JSON.stringify(info));
    try {
      renameSync(tmp, this.layerDir(src.diffId));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !this.has(src.diffId)) throw e;
      await removeShiftedTree(tmp, this.shift); // another importer finished it first
    }
    this.shortName(src.diffId);
    return info;
  }

  /**
   * Deletes a layer: renamed away first, so it stops looking complete before its files go (shifted
   * owners: removed in the user namespace).
   */
  async remove(diffId: string): Promise<void> {
    const hex = digestHex(diffId, 'diff_id');
    for (let n = SHORT_MIN; n <= hex.length; n++) {
      const link = `${this.linkDir}/${hex.slice(0, n)}`;
      try { if (readlinkSync(link) === `../layers/${hex}/root`) { rmSync(link); break; } } catch { /* absent */ }
    }
    if (!existsSync(this.layerDir(diffId))) return;
    const tmp = this.makeTmp();
    renameSync(this.layerDir(diffId), `${tmp}/layer`);
    await removeShiftedTree(tmp, this.shift);
  }
}
