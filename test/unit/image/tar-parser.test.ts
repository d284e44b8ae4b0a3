import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { TarParser, type TarHeader } from '../../../src/image/tar-parser.js';
import { makeTar, tempDir } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });

/** Parses `tar`, fed in pieces of `step` bytes, into headers and file contents. */
function parse(tar: Buffer, step = tar.length): { h: TarHeader; data: string }[] {
  const out: { h: TarHeader; data: string }[] = [];
  let parts: Buffer[] = [];
  const p = new TarParser({
    entry(h) { parts = []; out.push({ h, data: '' }); return h.type === 'file' ? (d) => { parts.push(Buffer.from(d)); } : undefined; },
    entryEnd() { out[out.length - 1]!.data = Buffer.concat(parts).toString(); },
  });
  for (let i = 0; i < tar.length; i += step) p.push(tar.subarray(i, i + step));
  p.end();
  return out;
}

describe('TarParser', () => {
  it('reads GNU tar long names and long link targets, whatever the chunking', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const long = 'd'.repeat(80) + '/' + 'f'.repeat(120);
    mkdirSync(`${t.dir}/src/${'d'.repeat(80)}`, { recursive: true });
    writeFileSync(`${t.dir}/src/${long}`, 'content');
    symlinkSync('t'.repeat(150), `${t.dir}/src/link`);
    for (const format of ['gnu', 'pax', 'ustar']) {
      if (format === 'ustar') continue; // ustar cannot hold a 150-byte link target
      const tar = execFileSync('tar', [`--format=${format}`, '-C', `${t.dir}/src`, '-cf', '-', '.']);
      for (const step of [tar.length, 512, 100, 7]) {
        const got = parse(tar, step);
        expect(got.find((e) => e.h.name.endsWith('f'.repeat(120)))?.data).toBe('content');
        expect(got.find((e) => e.h.name === './link')?.h.linkname).toBe('t'.repeat(150));
      }
    }
  });

  it('checks header checksums the same in aligned and unaligned chunks', async () => {
    const tar = await makeTar([{ name: 'a', data: 'x'.repeat(700) }, { name: 'b/', type: 'directory' }, { name: 'b/c', data: '\u00ff'.repeat(300) }]);
    const at = (b: Buffer, offset: number): Buffer => Buffer.concat([Buffer.alloc(offset), b]).subarray(offset);
    for (const offset of [0, 1, 2, 4]) {
      expect(parse(at(tar, offset)).map((e) => [e.h.name, e.data.length])).toEqual([['a', 700], ['b/', 0], ['b/c', 300]]);
      const bad = Buffer.from(tar);
      bad[2048 + 2]! ^= 0x10; // in the third header's name (after a's header and 700 bytes, and b/'s header)
      expect(() => parse(at(bad, offset))).toThrow(/bad header checksum at offset 2048/);
    }
  });

  it('reads PAX mtimes with sub-second precision and uid/gid overrides', async () => {
    const tar = await makeTar([{ name: 'f', data: 'x', pax: { mtime: '1700000000.25', uid: '3000000', gid: '7' } }]);
    const [e] = parse(tar);
    expect([e!.h.mtime, e!.h.uid, e!.h.gid]).toEqual([1700000000.25, 3000000, 7]);
  });

  it('refuses a bad checksum, a truncated archive and unknown entry types', async () => {
    const tar = await makeTar([{ name: 'f', data: 'hello' }]);
    const bad = Buffer.from(tar);
    bad[0] = 0x67;
    expect(() => parse(bad)).toThrow(/bad header checksum/);
    expect(() => parse(tar.subarray(0, 514))).toThrow(/truncated/); // inside the file data
    const sparse = Buffer.from(tar);
    sparse[156] = 'S'.charCodeAt(0);
    let sum = 0;
    sparse.fill(0x20, 148, 156);
    for (let i = 0; i < 512; i++) sum += sparse[i]!;
    sparse.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    expect(() => parse(sparse)).toThrow(/unsupported entry type 'S'/);
  });
});
