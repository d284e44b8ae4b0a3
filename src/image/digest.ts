// sha256 digests: parsing (the hex becomes a file name, so it is validated strictly) and checking
// while a blob streams, so a corrupt or substituted blob is caught before anything built from it is kept.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { TsrunError } from '../errors.js';

const SHA256 = /^sha256:([a-f0-9]{64})$/;

/** The hex part of a `sha256:` digest; anything else (other algorithms, odd characters) is refused. */
export function digestHex(digest: string, what = 'blob'): string {
  const m = SHA256.exec(digest);
  if (!m) throw new TsrunError(`${what} ${JSON.stringify(digest)}: unsupported or malformed digest (want sha256:<64 hex>)`, { file: digest });
  return m[1]!;
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Checks a whole in-memory blob against its digest (and size, when known). */
export function verifyBuffer(data: Buffer, digest: string, size?: number): void {
  digestHex(digest);
  if (size !== undefined && data.length !== size) throw new TsrunError(`blob ${digest}: size ${data.length} does not match the expected ${size}`, { file: digest });
  const got = sha256(data);
  if (got !== digest) throw new TsrunError(`blob ${digest}: digest mismatch (content is ${got})`, { file: digest });
}

/**
 * A pass-through stream that hashes what flows through it and fails at the end if the digest (or
 * size) differs. The error comes before the stream ends, so consumers never see a clean end.
 */
export class DigestCheck extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor(readonly digest: string, readonly size?: number, readonly what = 'blob', readonly onBytes?: (n: number) => void) {
    super({ highWaterMark: 1 << 20 });
    digestHex(digest, what);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.size !== undefined && this.bytes > this.size) {
      cb(new TsrunError(`${this.what} ${this.digest}: longer than its declared size ${this.size}`, { file: this.digest }));
      return;
    }
    this.hash.update(chunk);
    this.onBytes?.(chunk.length);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    if (this.size !== undefined && this.bytes !== this.size) {
      cb(new TsrunError(`${this.what} ${this.digest}: ${this.bytes} bytes, expected ${this.size}`, { file: this.digest }));
      return;
    }
    const got = 'sha256:' + this.hash.digest('hex');
    if (got !== this.digest) cb(new TsrunError(`${this.what} ${this.digest}: digest mismatch (content is ${got})`, { file: this.digest }));
    else cb();
  }
}
