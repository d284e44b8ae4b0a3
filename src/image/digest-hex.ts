// The hex of a `sha256:` digest, validated strictly: it becomes a file name in the store. Apart from
// digest.ts (hashing, streams, the worker) so that finding an image's layers loads none of that.
import { TsrunError } from '../errors.js';

const SHA256 = /^sha256:([a-f0-9]{64})$/;

/** The hex part of a `sha256:` digest; anything else (other algorithms, odd characters) is refused. */
export function digestHex(digest: string, what = 'blob'): string {
  const m = SHA256.exec(digest);
  if (!m) throw new TsrunError(`${what} ${JSON.stringify(digest)}: unsupported or malformed digest (want sha256:<64 hex>)`, { file: digest });
  return m[1]!;
}
