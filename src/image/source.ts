// What an importer needs from any image source (OCI layout, docker archive): the verified config,
// and for each layer a way to stream its bytes with what to check them against.
import type { Readable } from 'node:stream';
import type { Compression, ImageConfig } from './types.js';

export interface LayerSource {
  /** sha256 of the uncompressed tar: the layer's identity in the store. */
  diffId: string;
  /** Digest and size of the blob as stored (compressed), when the source declares them. */
  digest?: string;
  size?: number;
  mediaType: string;
  /** 'detect' when the source does not say (docker archives): sniffed from the first bytes. */
  compression: Compression | 'detect';
  open(): Readable;
  /**
   * Where the blob lies in a file, when it does: an uncompressed one is then read synchronously, into
   * the hash worker's ring slots or one reused buffer (no stream, no fresh buffer per chunk).
   */
  file?: { path: string; start: number; length: number };
}

export interface ResolvedImage {
  /** The manifest digest (OCI) or config digest (docker archive): the image's id in the store. */
  id: string;
  configDigest: string;
  config: ImageConfig;
  layers: LayerSource[];
  /** Names to record, e.g. `busybox:latest`. */
  names: string[];
  /** Releases temporary files the source made (a gunzipped archive). */
  close(): Promise<void>;
}

/** Largest JSON document (index, manifest, config) read into memory. */
export const MAX_JSON_BLOB = 8 * 2 ** 20;
