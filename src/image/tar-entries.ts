// tar-stream's extractor with one fix: PAX values are decoded as UTF-8 strings, which corrupts
// binary xattrs such as `security.capability`. We keep the raw PAX record bytes of each entry's
// `SCHILY.xattr.*` keys by wrapping the instance's long-header decoder (instance-only, so no other
// user of tar-stream is affected; if a future tar-stream renames it we fall back to UTF-8 values).
import { extract, type Extract, type Header } from 'tar-stream';

export interface TarEntryHeader extends Header {
  pax?: Record<string, string> | null;
  /** xattrs from PAX `SCHILY.xattr.NAME` records, byte-exact. */
  xattrs?: Map<string, Buffer>;
}

const XATTR_PREFIX = 'SCHILY.xattr.';

/** Parses the records of a PAX header ("LEN KEY=VALUE\n"), keeping only xattrs, as raw bytes. */
export function paxXattrs(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let at = 0;
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at);
    if (space < 0) break;
    const len = parseInt(buf.toString('latin1', at, space), 10);
    if (!(len > 0) || at + len > buf.length) break;
    const rec = buf.subarray(space + 1, at + len - 1); // without the trailing newline
    const eq = rec.indexOf(0x3d);
    if (eq > 0) {
      const key = rec.toString('utf8', 0, eq);
      if (key.startsWith(XATTR_PREFIX)) out.set(key.slice(XATTR_PREFIX.length), Buffer.from(rec.subarray(eq + 1)));
    }
    at += len;
  }
  return out;
}

interface ExtractInternals {
  _header: { type: string } | null;
  _pax: Record<string, unknown> | null;
  _paxGlobal: Record<string, unknown> | null;
  _decodeLongHeader?: (buf: Buffer) => void;
}

/** A tar-stream extractor whose entry headers carry byte-exact `xattrs`. */
export function tarExtractor(): Extract {
  const ex = extract();
  const inner = ex as unknown as ExtractInternals;
  const original = inner._decodeLongHeader;
  if (typeof original === 'function') {
    inner._decodeLongHeader = function (this: ExtractInternals, buf: Buffer) {
      original.call(this, buf);
      if (this._header?.type === 'pax-header' && this._pax) {
        const xattrs = paxXattrs(buf);
        if (xattrs.size > 0) this._pax = { ...this._pax, [RAW_XATTRS]: xattrs };
      }
    };
  }
  return ex;
}

// A key no PAX record can have (records are "KEY=VALUE" text), so it never collides with one.
const RAW_XATTRS = '\0tsrun.xattrs';

/** The entry's xattrs: byte-exact when available, else from tar-stream's UTF-8 PAX values. */
export function entryXattrs(h: Header): Map<string, Buffer> | undefined {
  const pax = h.pax as Record<string, unknown> | null | undefined;
  if (!pax) return undefined;
  const raw = pax[RAW_XATTRS];
  if (raw instanceof Map) return raw as Map<string, Buffer>;
  let out: Map<string, Buffer> | undefined;
  for (const [k, v] of Object.entries(pax)) {
    if (!k.startsWith(XATTR_PREFIX) || typeof v !== 'string') continue;
    (out ??= new Map()).set(k.slice(XATTR_PREFIX.length), Buffer.from(v, 'utf8'));
  }
  return out;
}
