// Image records: one JSON file per image under `<store>/images/`, naming its layers by diff-id.
// Records are written to a temp file and renamed, so a reader never sees half a record.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { digestHex } from './digest-hex.js';
import { normalizeImageName } from './image-name.js';
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
  /** Where it was pulled from (registry/pull.ts). */
  pulled?: PulledFrom;
}

export interface PulledFrom {
  /** `registry/repository`, as named (docker.io/library/busybox), not the mirror that served it. */
  repository: string;
  /** Digest of what the reference resolved to: the index when there was one, else the manifest. */
  digest: string;
  /** `os/arch[/variant]` chosen from an index (or the config's, without one). */
  platform: string;
  /** The endpoint that served it (a mirror, or the registry's API host). */
  endpoint: string;
}

/** An image found by lookup, and the recorded name that matched (none when found by id). */
export interface ImageMatch {
  record: ImageRecord;
  name?: string;
}

/** `sha256:` and the first 12 hex digits, as podman and docker show ids. */
export const shortId = (id: string): string => `${id.slice(0, 19)}…`;

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

  /**
   * Finds an image by a name it was recorded under (`busybox` also as `busybox:latest`), else by the
   * same name as podman and docker read names (`myapp:1.0` finds `docker.io/library/myapp:1.0`, and
   * the other way round; image-name.ts), else by full id or id prefix (≥ 4 hex). Says which recorded
   * name matched. Like podman, a unique match is silent; several images under one name are an error.
   */
  lookup(ref: string): ImageMatch | undefined {
    const all = this.list();
    const exact = ref.includes(':') || ref.includes('@') ? [ref] : [ref, `${ref}:latest`];
    for (const name of exact) {
      const record = all.find((r) => r.names.includes(name));
      if (record) return { record, name };
    }
    const full = normalizeImageName(ref);
    if (full !== undefined) {
      const hits = all.flatMap((record) => {
        const name = record.names.find((n) => normalizeImageName(n) === full);
        return name === undefined ? [] : [{ record, name }];
      });
      if (hits.length > 1) {
        throw new TsrunError(`image name '${ref}' matches several images: ${hits.map((h) => `${h.name} (${shortId(h.record.id)})`).join(', ')}; name one in full, or by id`);
      }
      if (hits.length === 1) return hits[0];
    }
    const hex = ref.replace(/^sha256:/, '');
    if (!/^[a-f0-9]{4,64}$/.test(hex)) return undefined;
    const matches = all.filter((r) => r.id.slice(7).startsWith(hex));
    if (matches.length > 1) throw new TsrunError(`image id prefix '${ref}' is ambiguous`);
    return matches[0] && { record: matches[0] };
  }

  find(ref: string): ImageRecord | undefined {
    return this.lookup(ref)?.record;
  }

  /** lookup, or an error naming the store and the full name that was looked for. */
  match(ref: string): ImageMatch {
    const m = this.lookup(ref);
    if (m) return m;
    const full = normalizeImageName(ref);
    const pull = full !== undefined && !/^[a-f0-9]{4,64}$/.test(ref) ? `; \`tsrun image pull ${ref}\` fetches it from ${full.slice(0, full.indexOf('/'))}` : '';
    throw new TsrunError(`no image '${ref}'${full !== undefined && full !== ref ? ` (${full})` : ''} in ${this.dir} (see tsrun image ls${pull})`);
  }

  get(ref: string): ImageRecord {
    return this.match(ref).record;
  }

  remove(id: string): void {
    rmSync(this.file(id), { force: true });
  }
}
