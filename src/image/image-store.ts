// Image records: one JSON file per image under `<store>/images/`, naming its layers by diff-id.
// Records are written to a temp file and renamed, so a reader never sees half a record.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { digestHex } from './digest-hex.js';
import type { ImageConfig } from './types.js';

export interface ImageRecord {
  /** Manifest digest (OCI layout) or config digest (docker archive). */
  id: string;
  names: string[];
  configDigest: string;
  config: ImageConfig;
  /** Bottom layer first, as in the image config. */
  layers: { diffId: string; digest?: string; mediaType: string }[];
  importedAt: string;
  /** Where it was imported from, so re-importing the unchanged source can be skipped. */
  source?: { path: string; tag?: string; size: number; mtimeMs: number };
}

export class ImageStore {
  constructor(readonly dir: string) {}

  private get imagesDir(): string { return `${this.dir}/images`; }
  private file(id: string): string { return `${this.imagesDir}/${digestHex(id, 'image id')}.json`; }

  list(): ImageRecord[] {
    let names: string[];
    try { names = readdirSync(this.imagesDir); } catch { return []; }
    const out: ImageRecord[] = [];
    for (const n of names) {
      if (!/^[a-f0-9]{64}\.json$/.test(n)) continue;
      try { out.push(JSON.parse(readFileSync(`${this.imagesDir}/${n}`, 'utf8')) as ImageRecord); } catch { /* removed meanwhile */ }
    }
    return out.sort((a, b) => a.importedAt.localeCompare(b.importedAt));
  }

  /** Saves a record; its names are taken away from any other image that had them. */
  save(rec: ImageRecord): void {
    mkdirSync(this.imagesDir, { recursive: true, mode: 0o700 });
    for (const other of this.list()) {
      if (other.id === rec.id) continue;
      const kept = other.names.filter((n) => !rec.names.includes(n));
      if (kept.length !== other.names.length) this.write({ ...other, names: kept });
    }
    this.write(rec);
  }

  private write(rec: ImageRecord): void {
    const tmp = `${this.file(rec.id)}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec, null, 2) + '\n');
    renameSync(tmp, this.file(rec.id));
  }

  /** Finds an image by name (`busybox:latest`, or `busybox` for `:latest`), full id, or id prefix (≥ 4 hex). */
  find(ref: string): ImageRecord | undefined {
    const all = this.list();
    const withTag = ref.includes(':') && !ref.startsWith('sha256:') ? ref : `${ref}:latest`;
    const byName = all.find((r) => r.names.includes(ref) || r.names.includes(withTag));
    if (byName) return byName;
    const hex = ref.replace(/^sha256:/, '');
    if (!/^[a-f0-9]{4,64}$/.test(hex)) return undefined;
    const matches = all.filter((r) => r.id.slice(7).startsWith(hex));
    if (matches.length > 1) throw new TsrunError(`image id prefix '${ref}' is ambiguous`);
    return matches[0];
  }

  get(ref: string): ImageRecord {
    const r = this.find(ref);
    if (!r) throw new TsrunError(`no image '${ref}' in ${this.dir} (see tsrun image ls)`);
    return r;
  }

  remove(id: string): void {
    rmSync(this.file(id), { force: true });
  }
}
