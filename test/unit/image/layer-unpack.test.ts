import { existsSync, lstatSync, readFileSync, readlinkSync, mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { unpackLayer } from '../../../src/image/layer-unpack.js';
import { lgetxattr } from '../../../src/native/fs-ext.js';
import { isRoot, makeTar, tempDir, type EntrySpec } from './fixtures.js';

let cleanups: (() => void)[] = [];
afterEach(() => { for (const c of cleanups) c(); cleanups = []; });

async function unpack(entries: EntrySpec[] | Buffer): Promise<string> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const root = `${t.dir}/root`;
  mkdirSync(root);
  const tar = Buffer.isBuffer(entries) ? entries : await makeTar(entries);
  await unpackLayer(Readable.from([tar]), root);
  return root;
}

describe('unpackLayer: file kinds and metadata', () => {
  it('keeps types, modes (setuid, sticky), owners, mtimes, links and xattrs', async () => {
    const root = await unpack([
      { name: 'bin/', type: 'directory' },
      { name: 'bin/tool', data: 'x', mode: 0o4755, uid: 1000, gid: 50 },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
      { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
      { name: 'bin/tool2', type: 'link', linkname: 'bin/tool' },
      { name: 'etc/conf', data: 'c', pax: { 'SCHILY.xattr.user.note': 'hi', mtime: '1700000000.5' } },
      { name: 'run/fifo', type: 'fifo', mode: 0o600 },
    ]);
    const tool = lstatSync(`${root}/bin/tool`);
    expect(tool.mode & 0o7777).toBe(0o4755);
    if (isRoot) expect([tool.uid, tool.gid]).toEqual([1000, 50]);
    expect(tool.mtimeMs).toBe(1_700_000_000_000);
    expect(lstatSync(`${root}/tmp`).mode & 0o7777).toBe(0o1777);
    expect(readlinkSync(`${root}/bin/sh`)).toBe('busybox');
    expect(lstatSync(`${root}/bin/tool2`).ino).toBe(tool.ino);
    expect(lgetxattr(`${root}/etc/conf`, 'user.note')?.toString()).toBe('hi');
    expect(lstatSync(`${root}/etc/conf`).mtimeMs).toBe(1_700_000_000_500);
    expect(lstatSync(`${root}/run/fifo`).isFIFO()).toBe(true);
    expect(lstatSync(`${root}/bin`).mtimeMs).toBe(1_700_000_000_000); // set after its children
  });

  it('keeps binary xattr values byte for byte', async () => {
    const value = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x80]);
    // A PAX record with raw bytes, as GNU tar writes security.capability.
    const tar = await makeTar([{ name: 'f', data: 'x', pax: { 'SCHILY.xattr.user.bin': 'PLACEHOLDER' } }]);
    const at = tar.indexOf('PLACEHOLDER');
    const patched = Buffer.concat([tar.subarray(0, at), value, Buffer.alloc(11 - value.length, 0x41), tar.subarray(at + 11)]);
    const root = await unpack(patched);
    expect(lgetxattr(`${root}/f`, 'user.bin')!.subarray(0, value.length)).toEqual(value);
  });

  it.skipIf(!isRoot)('creates device nodes', async () => {
    const root = await unpack([{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }]);
    const st = lstatSync(`${root}/dev/null`);
    expect(st.isCharacterDevice()).toBe(true);
    expect(st.rdev).toBe(0x103);
  });

  it('lets a later entry replace an earlier one', async () => {
    const root = await unpack([{ name: 'a', data: 'one' }, { name: 'a', type: 'symlink', linkname: 'x' }, { name: 'b/', type: 'directory' }, { name: 'b', data: 'file' }]);
    expect(readlinkSync(`${root}/a`)).toBe('x');
    expect(readFileSync(`${root}/b`, 'utf8')).toBe('file');
  });
});

describe.skipIf(!isRoot)('unpackLayer: whiteouts', () => {
  it('turns .wh.NAME into a 0/0 character device and .wh..wh..opq into the opaque xattr', async () => {
    const root = await unpack([
      { name: 'etc/', type: 'directory' },
      { name: 'etc/.wh.motd', data: '' },
      { name: 'data/', type: 'directory' },
      { name: 'data/.wh..wh..opq', data: '' },
      { name: 'data/new', data: 'n' },
    ]);
    const wh = lstatSync(`${root}/etc/motd`);
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(existsSync(`${root}/etc/.wh.motd`)).toBe(false);
    expect(lgetxattr(`${root}/data`, 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(existsSync(`${root}/data/.wh..wh..opq`)).toBe(false);
  });
});

describe('unpackLayer: hostile archives are refused', () => {
  const refuse = (entries: EntrySpec[], why: RegExp) => expect(unpack(entries)).rejects.toThrow(why);

  it('refuses a .. component', () => refuse([{ name: 'a/../../escape', data: 'x' }], /'\.\.' component/));
  it('refuses an absolute path', () => refuse([{ name: '/etc/passwd', data: 'x' }], /absolute path/));
  it('refuses to write through a symlink out of the layer', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    await expect(unpack([{ name: 'evil', type: 'symlink', linkname: t.dir }, { name: 'evil/planted', data: 'x' }])).rejects.toThrow(/symlink/);
    expect(existsSync(`${t.dir}/planted`)).toBe(false);
  });
  it('refuses a hard link pointing outside (..)', () => refuse([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }], /'\.\.' component/));
  it('refuses a hard link pointing outside (absolute)', () => refuse([{ name: 'h', type: 'link', linkname: '/etc/passwd' }], /absolute path/));
  it('refuses a hard link through a symlink', () => refuse([{ name: 's', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 's/passwd' }], /symlink/));
  it('refuses a whiteout of ..', () => refuse([{ name: 'a/.wh...', data: '' }], /whiteout of no name/));
  it('refuses a file in place of the layer root', () => refuse([{ name: './', data: 'x', type: 'file' }], /layer root/));
  it('refuses overlayfs xattrs planted by the image', () => refuse([{ name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/x' } }], /overlayfs' own xattr/));
  it('refuses an absurd size', async () => {
    // A header claiming 1 TiB (base-256 size field) followed by almost nothing.
    const tar = await makeTar([{ name: 'big', data: 'x' }]);
    const h = Buffer.from(tar.subarray(0, 512));
    h.fill(0, 124, 136);
    h[124] = 0x80;
    h.writeUIntBE(2 ** 40, 130, 6);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    await expect(unpack(Buffer.concat([h, tar.subarray(512)]))).rejects.toThrow(/exceeds the limit/);
  });
});

describe.skipIf(!isRoot)('unpackLayer: ownership in setgid directories', () => {
  it('gives files the owner the tar says, even where the kernel would inherit a group', async () => {
    const root = await unpack([
      { name: 'shared/', type: 'directory', mode: 0o2775, gid: 50 },
      { name: 'shared/implicit/file', data: 'x', uid: 0, gid: 0 },
      { name: 'shared/file', data: 'y', uid: 0, gid: 0 },
    ]);
    expect(lstatSync(`${root}/shared/file`).gid).toBe(0);
    expect(lstatSync(`${root}/shared/implicit/file`).gid).toBe(0);
    expect(lstatSync(`${root}/shared`).mode & 0o7777).toBe(0o2775);
  });
});
