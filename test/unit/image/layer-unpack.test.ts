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

describe('unpackLayer: errors from the kernel', () => {
  it('name the entry\'s path and the errno', async () => {
    const long = 'n'.repeat(300); // longer than NAME_MAX
    for (const spec of [{ name: `d/${long}`, data: 'x' }, { name: `d/${long}/`, type: 'directory' as const }, { name: `d/${long}`, type: 'symlink' as const, linkname: 'x' }]) {
      await expect(unpack([{ name: 'd/', type: 'directory' }, spec])).rejects.toThrow(new RegExp(`/root/d/${long}: ENAMETOOLONG`));
    }
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
  it('refuses to write through a symlink that leads above the layer root', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const up = '../'.repeat(20) + t.dir.slice(1); // from the layer root up to / and down to t.dir
    await expect(unpack([{ name: 'evil', type: 'symlink', linkname: up }, { name: 'evil/planted', data: 'x' }]))
      .rejects.toThrow(/refusing layer entry "evil\/planted": symlink 'evil' leads above the layer root/);
    expect(existsSync(`${t.dir}/planted`)).toBe(false);
    // One level too many, hidden behind an inside-pointing link.
    await expect(unpack([{ name: 'a/', type: 'directory' }, { name: 'a/up', type: 'symlink', linkname: '../..' }, { name: 'a/up/x', data: 'x' }]))
      .rejects.toThrow(/symlink 'a\/up' leads above the layer root/);
  });
  it('never sets directory times through a directory that a later entry replaced by a symlink', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    mkdirSync(`${t.dir}/y`);
    const before = [lstatSync(t.dir).mtimeMs, lstatSync(`${t.dir}/y`).mtimeMs];
    const root = await unpack([
      { name: 'x/', type: 'directory' },
      { name: 'x/y/', type: 'directory', mtime: new Date(1_000_000_000_000) },
      { name: 'x', type: 'symlink', linkname: t.dir }, // the directory times are applied at the end
    ]);
    expect(readlinkSync(`${root}/x`)).toBe(t.dir);
    expect([lstatSync(t.dir).mtimeMs, lstatSync(`${t.dir}/y`).mtimeMs]).toEqual(before);
  });
  it('refuses a hard link pointing outside (..)', () => refuse([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }], /'\.\.' component/));
  it('refuses a hard link pointing outside (absolute)', () => refuse([{ name: 'h', type: 'link', linkname: '/etc/passwd' }], /absolute path/));
  it('refuses a hard link whose target, resolved through a symlink, is not in the layer', () =>
    refuse([{ name: 's', type: 'symlink', linkname: '/etc' }, { name: 'h', type: 'link', linkname: 's/passwd' }], /'etc' \(resolving 's'\) is not in this layer/));
  it('refuses a symlink loop and a parent that is a file', async () => {
    await refuse([{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: 'a' }, { name: 'a/x', data: 'x' }], /more than 40 symlinks/);
    await refuse([{ name: 'f', data: 'file' }, { name: 's', type: 'symlink', linkname: 'f' }, { name: 's/x', data: 'x' }], /'f' is not a directory/);
  });
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

describe('unpackLayer: symlinks in an entry\'s parent path resolve inside the layer', () => {
  it('follows a relative symlink that points inside (usrmerge: lib -> usr/lib)', async () => {
    const root = await unpack([
      { name: 'usr/', type: 'directory' }, { name: 'usr/lib/', type: 'directory' },
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
      { name: 'lib/foo.so', data: 'foo' },
    ]);
    expect(readFileSync(`${root}/usr/lib/foo.so`, 'utf8')).toBe('foo');
    expect(readlinkSync(`${root}/lib`)).toBe('usr/lib'); // still a symlink
  });

  it('takes an absolute target as relative to the layer root, never the host', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const root = await unpack([
      { name: 'share', type: 'symlink', linkname: '/usr/share' },
      { name: 'share/doc', data: 'doc' },
      { name: 'host', type: 'symlink', linkname: t.dir },
      { name: 'host/planted', data: 'x' },
    ]);
    expect(readFileSync(`${root}/usr/share/doc`, 'utf8')).toBe('doc'); // missing directories made, as umoci does
    expect(lstatSync(`${root}/usr/share`).mode & 0o7777).toBe(0o755);
    expect(readFileSync(`${root}${t.dir}/planted`, 'utf8')).toBe('x');
    expect(existsSync(`${t.dir}/planted`)).toBe(false);
  });

  it('follows a chain of symlinks (relative, absolute, with .. that stays inside)', async () => {
    const root = await unpack([
      { name: 'usr/', type: 'directory' }, { name: 'usr/lib/', type: 'directory' }, { name: 'usr/lib/x86_64/', type: 'directory' },
      { name: 'c1', type: 'symlink', linkname: 'c2' },
      { name: 'c2', type: 'symlink', linkname: '/usr/../usr/lib/arch' },
      { name: 'usr/lib/arch', type: 'symlink', linkname: './x86_64' },
      { name: 'c1/bar', data: 'bar' },
      { name: 'c1/.wh.gone', data: '' }, // whiteouts and hard links resolve their parent the same way
      { name: 'c2/bar2', type: 'link', linkname: 'c1/bar' },
    ]);
    expect(readFileSync(`${root}/usr/lib/x86_64/bar`, 'utf8')).toBe('bar');
    expect(lstatSync(`${root}/usr/lib/x86_64/bar2`).ino).toBe(lstatSync(`${root}/usr/lib/x86_64/bar`).ino);
    if (isRoot) expect(lstatSync(`${root}/usr/lib/x86_64/gone`).isCharacterDevice()).toBe(true);
  });

  it('never follows the last component: an entry replaces a symlink of its own name', async () => {
    const root = await unpack([
      { name: 'usr/', type: 'directory' }, { name: 'usr/lib/', type: 'directory' },
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
      { name: 'lib/a', data: 'a' },
      { name: 'lib/', type: 'directory' }, // a real directory now: later entries go into it
      { name: 'lib/b', data: 'b' },
    ]);
    expect(lstatSync(`${root}/lib`).isDirectory()).toBe(true);
    expect(readFileSync(`${root}/lib/b`, 'utf8')).toBe('b');
    expect(existsSync(`${root}/usr/lib/b`)).toBe(false);
    expect(readFileSync(`${root}/usr/lib/a`, 'utf8')).toBe('a');
  });

  it('sees only this layer\'s symlinks: a parent absent from the layer is made as a directory', async () => {
    // `lib -> usr/lib` of a lower layer is invisible here; the entry is unpacked literally.
    const root = await unpack([{ name: 'lib/foo.so', data: 'foo' }]);
    expect(lstatSync(`${root}/lib`).isDirectory()).toBe(true);
    expect(readFileSync(`${root}/lib/foo.so`, 'utf8')).toBe('foo');
  });
});
