// `tsrun image pull REF` / `run --image REF`: an image from a registry, daemonless, straight into the
// layer store. The reference is resolved on the first endpoint that has it (its mirrors from
// registries.json, then the registry), an index to the platform's manifest, the config checked
// against its digest; then each layer the store lacks is streamed from the registry through the
// blob's sha256, the decompressor and the diff-id's sha256 into its unpacked form in a scratch dir
// of the store, and renamed into place only once both digests matched (LayerStore.add). Several
// layers flow at once; each is done under its own lock (layer-lock.ts), so two pulls of one image
// share the work (and the layer is unpacked in `<store>/partial/`, which is the layer lock's, not
// in the store lock's `<store>/tmp/`). The image record is written last, under the store lock: a
// failed pull leaves no record, no half layer and no scratch dir (layers completed and verified before the failure stay,
// unreferenced until `image prune`, so that trying again skips them).
import { defaultStoreDir } from '../../state/user-dirs.js';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { removeShiftedTree } from '../remove-shifted.js';
import { TsrunError } from '../../errors.js';
import { findPulled } from '../image-arg.js';
import { ImageStore, type ImageRecord } from '../image-store.js';
import { LayerStore } from '../layer-store.js';
import type { UnpackLimits } from '../layer-unpack.js';
import type { LayerSource } from '../source.js';
import { withStoreLock } from '../store-lock.js';
import { LAYER_MEDIA_TYPES, MEDIA, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../types.js';
import { ResumableBlob } from './blob-reader.js';
import { RegistryClient, type FetchedManifest } from './client.js';
import { entryFor, loadRegistriesConfig } from './config.js';
import { authFiles, findCredentials } from './credentials.js';
import { RegistryError } from './errors.js';
import { lockLayer, partialDir } from './layer-lock.js';
import { DEFAULT_PLATFORM, formatPlatform, offeredPlatforms, parsePlatform, pickPlatform } from './platform.js';
import type { LayerState, PullEvent } from './progress-events.js';
import { apiHost, manifestReference, registryRef, type RegistryRef } from './reference.js';
import { caFilesFor, Transport } from './transport.js';

export type { PullEvent, LayerState } from './progress-events.js';

export interface PullOptions {
  /** Image store directory (default /var/lib/tsrun). */
  store?: string;
  /** `os/arch[/variant]` to pick from an index (default linux/amd64). */
  platform?: string | Platform;
  /** Progress: the manifest found, each layer's state and bytes, the end. */
  onProgress?: (event: PullEvent) => void;
  /** Never touch the network: the image must be in the store. Default: $TSRUN_OFFLINE set and not "0". */
  offline?: boolean;
  /** Layers downloaded at once (default 3). */
  concurrency?: number;
  /** Where to read registries.json and auth.json locations from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** One line per HTTP request (method, URL without query, status); never a header. */
  debug?: (line: string) => void;
  limits?: Partial<UnpackLimits>;
  /** Interruptions tolerated per blob before the pull fails (default 5). */
  maxResumes?: number;
}

export const DEFAULT_CONCURRENCY = 3;

export function offlineFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.TSRUN_OFFLINE;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** An endpoint to try, in order: mirrors first, the registry last. */
interface Candidate { client: RegistryClient; label: string; mirror: boolean }

function candidates(ref: RegistryRef, transport: Transport, env: NodeJS.ProcessEnv): Candidate[] {
  const config = loadRegistriesConfig(env);
  const entry = entryFor(config, ref.registry, ref.repository);
  if (entry?.blocked) throw new RegistryError('auth', `registry ${entry.location} is blocked in ${config.file}`);
  const full = `${ref.registry}/${ref.repository}`;
  const make = (host: string, repository: string, credsRegistry: string, insecure: boolean, mirror: boolean): Candidate => {
    const credentials = findCredentials(credsRegistry, repository, env);
    return {
      client: new RegistryClient({ host, repository, insecure, caFiles: caFilesFor(host, entry?.ca), authFiles: authFiles(env), ...(credentials ? { credentials } : {}) }, transport),
      label: host, mirror,
    };
  };
  const mirrors = (entry?.mirrors ?? []).map((m) => {
    const mapped = m.location + full.slice(entry!.location.length);
    const slash = mapped.indexOf('/');
    if (slash < 0) throw new TsrunError(`${config.file}: mirror ${m.location} of ${entry!.location} leaves no repository path for ${full}`, { file: config.file! });
    return make(mapped.slice(0, slash), mapped.slice(slash + 1), mapped.slice(0, slash), m.insecure ?? false, true);
  });
  return [...mirrors, make(apiHost(ref.registry), ref.repository, ref.registry, entry?.insecure ?? false, false)];
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try { return JSON.parse(bytes.toString('utf8')) as T; } catch { throw new RegistryError('protocol', `${what}: not valid JSON`); }
}

const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA.ociIndex, MEDIA.dockerList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([MEDIA.ociManifest, MEDIA.dockerManifest]);

/** The image manifest a reference leads to (an index followed to `platform`'s entry). */
async function resolveManifest(client: RegistryClient, top: FetchedManifest, platform: Platform): Promise<{ manifest: ImageManifest; digest: string; platform?: string }> {
  let m = top;
  let chosen: string | undefined;
  for (let depth = 0; INDEX_TYPES.has(m.mediaType); depth++) {
    if (depth >= 2) throw new RegistryError('protocol', `manifest ${m.digest}: image indexes nested too deep`);
    const idx = parseJson<ImageIndex>(m.bytes, `index ${m.digest}`);
    if (!Array.isArray(idx.manifests)) throw new RegistryError('protocol', `index ${m.digest}: no manifests list`);
    const entry = pickPlatform(idx.manifests, platform);
    if (!entry) throw new RegistryError('not-found', `no ${formatPlatform(platform)} image in the index (it has ${offeredPlatforms(idx.manifests)}); choose one with --platform`);
    chosen = formatPlatform(entry.platform!);
    m = await client.manifest(entry.digest);
  }
  if (m.mediaType.startsWith('application/vnd.docker.distribution.manifest.v1')) throw new RegistryError('protocol', `manifest ${m.digest}: docker schema 1 manifests are not supported (re-push the image with a current tool)`);
  if (!MANIFEST_TYPES.has(m.mediaType)) throw new RegistryError('protocol', `manifest ${m.digest}: unknown media type ${m.mediaType || '(none)'}`);
  const manifest = parseJson<ImageManifest>(m.bytes, `manifest ${m.digest}`);
  if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new RegistryError('protocol', `manifest ${m.digest}: no config or layers`);
  return { manifest, digest: m.digest, ...(chosen ? { platform: chosen } : {}) };
}

/** The top manifest from the first endpoint that has it; the registry's own error when none does. */
async function firstManifest(ref: RegistryRef, list: Candidate[], debug?: (l: string) => void): Promise<{ c: Candidate; top: FetchedManifest }> {
  const reference = manifestReference(ref);
  for (const c of list) {
    try {
      return { c, top: await c.client.manifest(reference) };
    } catch (e) {
      if (c.mirror) { debug?.(`mirror ${c.label}: ${(e as Error).message}; trying the next endpoint`); continue; }
      if (e instanceof RegistryError && e.kind === 'not-found') throw await notFound(ref, c.client, e);
      throw e;
    }
  }
  throw new TsrunError('no endpoint to pull from'); // unreachable: the registry itself is always last
}

/** Tells an unknown repository from an unknown tag (the registry says MANIFEST_UNKNOWN for both). */
async function notFound(ref: RegistryRef, client: RegistryClient, e: RegistryError): Promise<RegistryError> {
  const tags = await client.tags().catch(() => undefined);
  const where = `${client.ep.host}/${client.ep.repository}`;
  if (tags === undefined) return new RegistryError('not-found', `image not found: ${where} does not exist (or needs a login)`, e);
  if (ref.digest) return new RegistryError('not-found', `manifest ${ref.digest} not found in ${where}`, e);
  const shown = tags.slice(0, 10).join(', ') + (tags.length > 10 ? ', …' : '');
  return new RegistryError('not-found', `tag '${ref.tag ?? 'latest'}' not found in ${where} (tags: ${shown || 'none'})`, e);
}

/** sha256 of a blob as the registry serves it, for telling a corrupt blob from a hostile layer. */
async function blobDigestOf(client: RegistryClient, digest: string, size: number): Promise<string | undefined> {
  try {
    const hash = createHash('sha256');
    for await (const c of new ResumableBlob({ digest, size, open: (off) => client.blob(digest, off), maxResumes: 2 })) hash.update(c as Buffer);
    return `sha256:${hash.digest('hex')}`;
  } catch (e) {
    const m = /content is (sha256:[a-f0-9]{64})/.exec((e as Error).message);
    return m?.[1];
  }
}

/**
 * Runs `work` on each item, at most `limit` at once. At the first failure no new item starts and
 * `onFailure` runs (to stop the others); the first error is thrown once all have settled.
 */
async function eachLimited<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>, onFailure: () => void): Promise<void> {
  let next = 0;
  let failed: { error: unknown } | undefined;
  const runner = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const i = next++;
      try { await work(items[i]!, i); } catch (e) { if (!failed) { failed = { error: e }; onFailure(); } }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  if (failed) throw failed.error;
}

interface LayerJob { desc: Descriptor; diffId: string }

class LayerPuller {
  private readonly active = new Set<ResumableBlob>();
  private stopped = false;
  downloaded = 0;

  constructor(
    private readonly storeDir: string, private readonly client: RegistryClient, private readonly count: number,
    private readonly o: PullOptions,
  ) {}

  private emit(index: number, job: LayerJob, state: LayerState, bytes: number, extra: { reason?: string } = {}): void {
    this.o.onProgress?.({ type: 'layer', index, count: this.count, digest: job.desc.digest, diffId: job.diffId, size: job.desc.size, state, bytes, ...extra });
  }

  queued(job: LayerJob, index: number): void { this.emit(index, job, 'queued', 0); }

  /** Stops every download in flight: their scratch dirs go with the failure each then reports. */
  stop(): void {
    this.stopped = true;
    for (const b of this.active) b.destroy(new TsrunError('stopped: another layer failed'));
  }

  async pull(job: LayerJob, index: number, layers: LayerStore): Promise<void> {
    this.emit(index, job, 'waiting', 0);
    const lock = await lockLayer(this.storeDir, job.diffId);
    try {
      if (this.stopped) return;
      if (layers.has(job.diffId)) { this.emit(index, job, 'exists', 0); return; }
      // Left by a pull of this layer that died (we hold its lock: nobody else is writing there).
      const scratch = partialDir(this.storeDir, job.diffId);
      await removeShiftedTree(scratch); // a user's: files of its subordinate ids too
      mkdirSync(`${this.storeDir}/partial`, { recursive: true, mode: 0o700 });
      let bytes = 0;
      this.emit(index, job, 'downloading', 0);
      const { desc } = job;
      const compression = LAYER_MEDIA_TYPES[desc.mediaType];
      if (compression === undefined) throw new RegistryError('protocol', `blob ${desc.digest}: unknown layer media type ${desc.mediaType}`);
      const src: LayerSource = {
        diffId: job.diffId, digest: desc.digest, size: desc.size, mediaType: desc.mediaType, compression,
        open: () => {
          const blob = new ResumableBlob({
            digest: desc.digest, size: desc.size, open: (off) => this.client.blob(desc.digest, off),
            onResume: (off, reason) => this.emit(index, job, 'resuming', off, { reason }),
            ...(this.o.maxResumes !== undefined ? { maxResumes: this.o.maxResumes } : {}),
          });
          this.active.add(blob);
          blob.once('close', () => this.active.delete(blob));
          return blob;
        },
      };
      try {
        await layers.add(src, (n) => { bytes += n; this.downloaded += n; this.emit(index, job, 'downloading', bytes); }, { limits: this.o.limits ?? {} }, scratch);
      } catch (e) {
        if (this.stopped && !(e instanceof RegistryError)) throw e;
        throw await this.explain(e, desc);
      }
      this.emit(index, job, 'done', bytes);
    } finally {
      lock.release();
    }
  }

  /**
   * A layer that failed to decompress or unpack may be a corrupt download rather than a bad layer:
   * the blob is then fetched again (only hashed) to say which.
   */
  private async explain(e: unknown, desc: Descriptor): Promise<unknown> {
    const msg = (e as Error).message;
    if (e instanceof RegistryError || /digest mismatch|bytes, expected|longer than its declared size/.test(msg)) {
      return e instanceof RegistryError ? e : new RegistryError('integrity', msg, e);
    }
    const got = await blobDigestOf(this.client, desc.digest, desc.size);
    if (got && got !== desc.digest) return new RegistryError('integrity', `blob ${desc.digest}: digest mismatch (content is ${got})`, e);
    return e;
  }
}

/**
 * Pulls `reference` (`[registry/]name[:tag|@sha256:…]`) into the store and returns its record.
 * An image already in the store with all its layers downloads nothing but its manifest (the tag may
 * have moved); offline, it downloads nothing at all, and a missing image fails at once.
 */
export async function pullImage(reference: string, options: PullOptions = {}): Promise<ImageRecord> {
  const ref = registryRef(reference);
  const storeDir = options.store ?? defaultStoreDir();
  const env = options.env ?? process.env;
  const offline = options.offline ?? offlineFromEnv(env);
  const fail = (e: unknown): never => {
    const err = e as Error;
    if (err instanceof TsrunError) throw new TsrunError(`pull ${ref.name}: ${err.message}`, { ...err.details, cause: err }, err.exitCode);
    throw new TsrunError(`pull ${ref.name}: ${err.message}`, { cause: err });
  };
  if (offline) {
    const rec = findPulled(reference, storeDir);
    if (rec) return rec;
    fail(new TsrunError(`not in the image store ${storeDir}, and offline (${options.offline ? '--offline' : 'TSRUN_OFFLINE'}): nothing is downloaded`));
  }
  const platform = typeof options.platform === 'string' ? parsePlatform(options.platform) : options.platform ?? DEFAULT_PLATFORM;
  const started = Date.now();
  const transport = new Transport(options.debug);
  const layers = new LayerStore(storeDir);
  try {
    const { c, top } = await firstManifest(ref, candidates(ref, transport, env), options.debug);
    const { manifest, digest, platform: chosen } = await resolveManifest(c.client, top, platform);
    options.onProgress?.({ type: 'manifest', reference: ref.name, endpoint: c.label, digest, layers: manifest.layers.length });
    const images = new ImageStore(storeDir);
    const known = images.list().find((r) => r.id === digest);
    const configBytes = known ? undefined : await c.client.smallBlob(manifest.config.digest, manifest.config.size);
    if (configBytes && manifest.config.mediaType !== MEDIA.ociConfig && manifest.config.mediaType !== MEDIA.dockerConfig) {
      throw new RegistryError('protocol', `blob ${manifest.config.digest}: unknown config media type ${manifest.config.mediaType}`);
    }
    const config = known?.config ?? parseJson<ImageConfig>(configBytes!, `config ${manifest.config.digest}`);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new RegistryError('protocol', `config ${manifest.config.digest}: ${diffIds.length} diff_ids for ${manifest.layers.length} layers`);
    }
    const jobs: LayerJob[] = manifest.layers.map((desc, i) => ({ desc, diffId: diffIds[i]! }));
    const puller = new LayerPuller(storeDir, c.client, jobs.length, options);
    jobs.forEach((job, i) => puller.queued(job, i));
    const record: ImageRecord = {
      id: digest,
      names: [ref.name],
      configDigest: manifest.config.digest,
      config,
      layers: jobs.map((j) => ({ diffId: j.diffId, digest: j.desc.digest, mediaType: j.desc.mediaType })),
      importedAt: '',
      pulled: { repository: `${ref.registry}/${ref.repository}`, digest: top.digest, platform: chosen ?? formatPlatform({ os: config.os, architecture: config.architecture }), endpoint: c.label },
    };
    // A prune may take a layer between its unpacking and the record: then it is fetched again.
    for (let round = 0; ; round++) {
      await eachLimited(jobs, options.concurrency ?? DEFAULT_CONCURRENCY, (job, i) => puller.pull(job, i, layers), () => puller.stop());
      const saved = await withStoreLock(storeDir, () => {
        if (!jobs.every((j) => layers.has(j.diffId))) return undefined;
        const names = [...new Set([...(images.list().find((r) => r.id === digest)?.names ?? []), ref.name])];
        const rec = { ...record, names, importedAt: new Date().toISOString() };
        images.save(rec);
        return rec;
      }, { create: true });
      if (saved) {
        options.onProgress?.({ type: 'done', reference: ref.name, id: saved.id, downloaded: puller.downloaded, ms: Date.now() - started });
        return saved;
      }
      if (round >= 2) throw new TsrunError('layers keep disappearing from the store while pulling (a concurrent image prune?)');
    }
  } catch (e) {
    return fail(e);
  } finally {
    transport.close();
  }
}
