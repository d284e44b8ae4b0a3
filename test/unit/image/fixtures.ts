// Test fixtures built in memory: layer tars (tar-stream's packer), OCI layouts around them.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';

export type EntrySpec = Partial<Header> & { name: string; data?: string | Buffer; pax?: Record<string, string> };

/** A tar archive of the given entries (in order). */
export async function makeTar(entries: EntrySpec[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((resolve, reject) => { p.on('end', resolve); p.on('error', reject); });
  for (const { data, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      const header = { mode: h.type === 'directory' ? 0o755 : 0o644, mtime: new Date(1_700_000_000_000), ...h } as Header;
      if (data !== undefined) p.entry(header, data, (e) => (e ? reject(e) : resolve()));
      else p.entry(header, (e) => (e ? reject(e) : resolve())).end(Buffer.alloc(0));
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const sha = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

export function tempDir(prefix = 'tsrun-img-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(`${tmpdir()}/${prefix}`);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface LayoutOptions {
  tag?: string;
  config?: Record<string, unknown>;
  /** Layer media type; default gzip. */
  mediaType?: string;
  /** Wrap the manifest in a nested image index with several platforms. */
  nestedIndex?: boolean;
  /** Compress a layer tar yourself (e.g. zstd); default gzip or none by media type. */
  compress?: (tar: Buffer) => Buffer;
}

/** Writes an OCI image layout of `layers` (bottom first) into `dir`; returns the blob digests. */
export function writeLayout(dir: string, layers: Buffer[], o: LayoutOptions = {}): { manifest: string; config: string; layers: string[] } {
  mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
  const put = (b: Buffer | string): { digest: string; size: number } => {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b);
    const digest = sha(buf);
    writeFileSync(`${dir}/blobs/sha256/${digest.slice(7)}`, buf);
    return { digest, size: buf.length };
  };
  const mediaType = o.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip';
  const compress = o.compress ?? ((t: Buffer) => (mediaType.endsWith('+gzip') ? gzipSync(t) : t));
  const layerDescs = layers.map((t) => ({ mediaType, ...put(compress(t)) }));
  const config = put(JSON.stringify({
    architecture: 'amd64', os: 'linux',
    config: { Cmd: ['/bin/sh'] },
    ...o.config,
    rootfs: { type: 'layers', diff_ids: layers.map((t) => sha(t)) },
  }));
  const manifest = put(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: layerDescs,
  }));
  let top = { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest };
  if (o.nestedIndex) {
    const other = put(JSON.stringify({ schemaVersion: 2, manifests: [] }));
    const idx = put(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...other, platform: { os: 'linux', architecture: 'arm64' } },
        { ...top, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    }));
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', ...idx };
  }
  writeFileSync(`${dir}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(`${dir}/index.json`, JSON.stringify({
    schemaVersion: 2,
    manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': o.tag ?? 'latest' } }],
  }));
  return { manifest: manifest.digest, config: config.digest, layers: layerDescs.map((d) => d.digest) };
}

export const isRoot = process.getuid?.() === 0;
