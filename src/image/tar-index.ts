// A table of contents of a tar file on disk: name → where its data starts and how long it is.
// Docker archives put manifest.json last, so reading them in one pass would mean buffering or
// unpacking layers before knowing which are wanted; with offsets each member is streamed on demand.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { TsrunError } from '../errors.js';

export interface TarMember { offset: number; size: number }

function field(h: Buffer, at: number, len: number): string {
  const end = h.indexOf(0, at);
  return h.toString('utf8', at, end < 0 || end > at + len ? at + len : end);
}

function numeric(h: Buffer, at: number, len: number): number {
  if (h[at]! & 0x80) { // base-256, for sizes past 8 GiB
    let v = 0;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + h[i]!;
    return v;
  }
  const s = field(h, at, len).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function paxRecords(b: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < b.length) {
    const sp = b.indexOf(0x20, at);
    const len = parseInt(b.toString('latin1', at, sp), 10);
    if (sp < 0 || !(len > 0)) break;
    const rec = b.toString('utf8', sp + 1, at + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    at += len;
  }
  return out;
}

const normalize = (n: string): string => n.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

/** Indexes the regular files of an uncompressed tar. */
export function indexTar(path: string): Map<string, TarMember> {
  const fd = openSync(path, 'r');
  const out = new Map<string, TarMember>();
  try {
    const total = fstatSync(fd).size;
    const h = Buffer.alloc(512);
    let at = 0;
    let longName: string | undefined;
    let pax: Map<string, string> | undefined;
    while (at + 512 <= total) {
      readSync(fd, h, 0, 512, at);
      if (h.every((b) => b === 0)) break;
      let size = numeric(h, 124, 12);
      const type = String.fromCharCode(h[156]!);
      const data = at + 512;
      if (type === 'L' || type === 'x') {
        if (size > 1 << 20) throw new TsrunError(`${path}: oversized tar header at offset ${at}`, { file: path });
        const b = Buffer.alloc(size);
        readSync(fd, b, 0, size, data);
        if (type === 'L') longName = b.toString('utf8').replace(/\0.*$/s, '');
        else pax = paxRecords(b);
      } else if (type !== 'g') {
        const prefix = h.toString('latin1', 257, 263).startsWith('ustar') ? field(h, 345, 155) : '';
        let name = longName ?? pax?.get('path') ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100));
        if (pax?.has('size')) size = Number(pax.get('size'));
        name = normalize(name);
        if (type === '0' || type === '\0' || type === '7') out.set(name, { offset: data, size });
        longName = undefined;
        pax = undefined;
      }
      at = data + Math.ceil(size / 512) * 512;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
