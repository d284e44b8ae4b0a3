// ResumableBlob: a blob read across broken connections, each resumed with a Range request where the
// last one stopped, against a small HTTP server on 127.0.0.1 that cuts its answers short.
import { createHash } from 'node:crypto';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResumableBlob } from '../../../../src/image/registry/blob-reader.js';

const BLOB = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 251));
const DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

let server: Server;
let port: number;
/** How each request is answered: bytes to send before cutting (undefined: all); whether Range is honoured. */
let plan: { cutAfter?: number; honourRange?: boolean }[] = [];
const ranges: (string | undefined)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    ranges.push(req.headers.range);
    const p = plan.shift() ?? {};
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m && p.honourRange !== false ? Number(m[1]) : 0;
    const body = BLOB.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-length': body.length,
      ...(start > 0 ? { 'content-range': `bytes ${start}-${BLOB.length - 1}/${BLOB.length}` } : {}),
    });
    if (p.cutAfter === undefined) { res.end(body); return; }
    res.write(body.subarray(0, p.cutAfter), () => setTimeout(() => res.socket?.destroy(), 10));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

function open(offset: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/blob', headers: offset > 0 ? { range: `bytes=${offset}-` } : {} }, resolve).on('error', reject);
  });
}

async function readAll(b: ResumableBlob): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of b) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('ResumableBlob', () => {
  it('resumes a cut connection with Range from the byte it stopped at', async () => {
    plan = [{ cutAfter: 100_000 }, { cutAfter: 50_000 }, {}];
    ranges.length = 0;
    const resumes: number[] = [];
    const out = await readAll(new ResumableBlob({ digest: DIGEST, size: BLOB.length, open, onResume: (at) => resumes.push(at), backoffMs: 1 }));
    expect(out.equals(BLOB)).toBe(true);
    expect(resumes).toEqual([100_000, 150_000]);
    expect(ranges).toEqual([undefined, 'bytes=100000-', 'bytes=150000-']);
  });

  it('a server that ignores Range: the bytes already delivered are skipped', async () => {
    plan = [{ cutAfter: 120_000 }, { honourRange: false }];
    ranges.length = 0;
    const out = await readAll(new ResumableBlob({ digest: DIGEST, size: BLOB.length, open, backoffMs: 1 }));
    expect(out.equals(BLOB)).toBe(true);
    expect(ranges).toEqual([undefined, 'bytes=120000-']);
  });

  it('gives up after maxResumes, saying how much arrived', async () => {
    plan = [{ cutAfter: 1000 }, { cutAfter: 1000 }, { cutAfter: 1000 }];
    await expect(readAll(new ResumableBlob({ digest: DIGEST, size: BLOB.length, open, maxResumes: 2, backoffMs: 1 }))).rejects.toThrow(
      `blob ${DIGEST}: truncated: 3000 of ${BLOB.length} bytes after 2 resumed attempts`);
  });

  it('more bytes than declared: refused', async () => {
    plan = [{}];
    await expect(readAll(new ResumableBlob({ digest: DIGEST, size: BLOB.length - 1, open }))).rejects.toThrow(`blob ${DIGEST}: longer than its declared size`);
  });
});
