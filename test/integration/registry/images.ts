// Test images for the registry tests, as OCI layouts that `skopeo copy` pushes: the busybox sample
// (two gzip layers, a whiteout and an opaque dir) grown by a gzip and a zstd layer, and a
// multi-arch index of it (linux/amd64 and linux/arm64, told apart by /arch).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const REPO = new URL('../../../', import.meta.url).pathname;
export const SAMPLE = `${REPO}rootfs-samples/build/busybox-layers`;

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Desc { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string } }

/** A tar (GNU tar, root-owned, fixed mtime) of files given as path → content. */
function tarOf(dir: string, files: Record<string, string>): Buffer {
  mkdirSync(dir, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(`${dir}/${p.slice(0, p.lastIndexOf('/'))}`, { recursive: true });
    writeFileSync(`${dir}/${p}`, content);
  }
  return execFileSync('tar', ['--sort=name', '--numeric-owner', '--owner=0', '--group=0', '--mtime=@1700000000', '-C', dir, '-cf', '-', '.']);
}

export interface BuiltImages {
  /** OCI layout with tag `latest` (the index) and `amd64` (the amd64 manifest alone). */
  layout: string;
  indexDigest: string;
  amd64Digest: string;
  arm64Digest: string;
}

/** Writes the layout under `work`. */
export function buildImages(work: string): BuiltImages {
  const layout = `${work}/multi`;
  cpSync(SAMPLE, layout, { recursive: true });
  const put = (b: Buffer): { digest: string; size: number } => {
    const digest = sha(b);
    writeFileSync(`${layout}/blobs/sha256/${digest.slice(7)}`, b);
    return { digest, size: b.length };
  };
  const index = JSON.parse(readFileSync(`${SAMPLE}/index.json`, 'utf8')) as { manifests: Desc[] };
  const blob = (d: string): Buffer => readFileSync(`${SAMPLE}/blobs/sha256/${d.slice(7)}`);
  const base = JSON.parse(blob(index.manifests[0]!.digest).toString()) as { config: Desc; layers: Desc[] };
  const baseConfig = JSON.parse(blob(base.config.digest).toString()) as { architecture: string; rootfs: { diff_ids: string[] } };

  const gzTar = tarOf(`${work}/l3`, { 'extra/gz-file': 'from a gzip layer\n' });
  const zstdTar = tarOf(`${work}/l4`, { 'extra/zstd-file': 'from a zstd layer\n', 'etc/hostname': 'zstd-top\n' });
  writeFileSync(`${work}/l4.tar`, zstdTar);
  execFileSync('zstd', ['-q', '-f', `${work}/l4.tar`, '-o', `${work}/l4.tar.zst`]);
  const armTar = tarOf(`${work}/l5`, { arch: 'arm64\n' });
  const amdTar = tarOf(`${work}/l6`, { arch: 'amd64\n' });

  const manifestFor = (arch: string, extra: { tar: Buffer; blob: Buffer; mediaType: string }[]): Desc => {
    const layers = [...base.layers, ...extra.map((e) => ({ mediaType: e.mediaType, ...put(e.blob) }))];
    const config = put(Buffer.from(JSON.stringify({
      ...baseConfig, architecture: arch,
      rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, ...extra.map((e) => sha(e.tar))] },
    })));
    const m = put(Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers,
    })));
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform: { os: 'linux', architecture: arch } };
  };
  const gz = 'application/vnd.oci.image.layer.v1.tar+gzip';
  const amd64 = manifestFor('amd64', [
    { tar: gzTar, blob: gzipSync(gzTar), mediaType: gz },
    { tar: zstdTar, blob: readFileSync(`${work}/l4.tar.zst`), mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd' },
    { tar: amdTar, blob: gzipSync(amdTar), mediaType: gz },
  ]);
  const arm64 = manifestFor('arm64', [{ tar: armTar, blob: gzipSync(armTar), mediaType: gz }]);
  const idx = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [amd64, arm64] })));
  writeFileSync(`${layout}/index.json`, JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      { mediaType: 'application/vnd.oci.image.index.v1+json', ...idx, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
      { ...amd64, annotations: { 'org.opencontainers.image.ref.name': 'amd64' } },
    ],
  }));
  return { layout, indexDigest: idx.digest, amd64Digest: amd64.digest, arm64Digest: arm64.digest };
}

/** The diff-ids of the busybox sample's layers, bottom first. */
export function sampleDiffIds(): string[] {
  const blob = (d: string): { [k: string]: unknown } => JSON.parse(readFileSync(`${SAMPLE}/blobs/sha256/${d.slice(7)}`, 'utf8')) as { [k: string]: unknown };
  const index = JSON.parse(readFileSync(`${SAMPLE}/index.json`, 'utf8')) as { manifests: Desc[] };
  const manifest = blob(index.manifests[0]!.digest) as { config: Desc };
  return (blob(manifest.config.digest) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
}
