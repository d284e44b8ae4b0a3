// A user's image store with owners shifted into its subordinate range (podman's way): a layer file of
// uid U is owned on disk by the user (U = 0) or by subuid_start + U - 1, so that inside the container
// (the same maps) it has its owner again; files a subordinate id makes in the container go at delete;
// an owner beyond the range is refused; a hostile tar cannot steer a chown or a removal out of the layer.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROOTFS } from '../../helpers/bundle.js';
import { makeTar, writeLayout } from '../../unit/image/fixtures.js';
import { lgetxattr } from '../../../src/native/fs-ext.js';
import { asUser, cannotRunRootless, createRootlessUser, removeRootlessUser, type RootlessUser } from './user.js';

const skip = cannotRunRootless();

describe.skipIf(skip !== undefined)(`rootless: image owners shifted into the user's range${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let user: RootlessUser;
  let base: Buffer;
  let n = 0;
  /** An OCI layout of the sample rootfs plus `top`, owned by the user. */
  const layout = async (top: Parameters<typeof makeTar>[0], config: Record<string, unknown> = {}): Promise<string> => {
    const dir = join(user.work, `layout${++n}`);
    writeLayout(dir, [base, await makeTar(top)], { config: { config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['true'], ...config } } });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
    return dir;
  };
  const store = (): string => join(user.home, '.local/share/tsrun');
  /** The unpacked root of the store's layer that holds `probe`. */
  const layerWith = (probe: string): string => {
    const layers = join(store(), 'layers');
    const hex = readdirSync(layers).find((h) => existsSync(join(layers, h, 'root', probe)));
    if (!hex) throw new Error(`no layer holds ${probe}`);
    return join(layers, hex, 'root');
  };

  beforeAll(() => {
    user = createRootlessUser();
    base = execFileSync('tar', ['-C', SAMPLE_ROOTFS, '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
  });
  afterAll(() => { if (user) removeRootlessUser(user); });

  it('files of uid 0, 1000 and 65534 keep those owners inside and are shifted outside; setuid survives the chown', async () => {
    expect(user.subuid, 'useradd gave the user a range').toBeDefined();
    const { start } = user.subuid!;
    const gstart = user.subgid!.start;
    const image = await layout([
      { name: 'srv/', type: 'directory' },
      { name: 'srv/rootfile', data: 'r\n', uid: 0, gid: 0 },
      { name: 'srv/app/', type: 'directory', uid: 1000, gid: 1000, mode: 0o751 },
      { name: 'srv/app/file', data: 'a\n', uid: 1000, gid: 1000 },
      { name: 'srv/app/suid', data: '#!/bin/sh\n', uid: 1000, gid: 1000, mode: 0o4755 },
      { name: 'srv/app/link', type: 'symlink', linkname: 'file', uid: 1000, gid: 1000 },
      { name: 'srv/nobody', data: 'n\n', uid: 65534, gid: 65534 },
    ]);
    const imp = await asUser(user, ['image', 'import', image]);
    expect(imp.stderr).toBe('');
    expect(imp.exitCode).toBe(0);
    // Outside: shifted.
    const root = layerWith('srv/app/file');
    const owner = (p: string): string => { const s = lstatSync(join(root, p)); return `${s.uid}:${s.gid}`; };
    expect(owner('srv/rootfile')).toBe(`${user.uid}:${user.gid}`);
    expect(owner('srv/app')).toBe(`${start + 999}:${gstart + 999}`);
    expect(owner('srv/app/file')).toBe(`${start + 999}:${gstart + 999}`);
    expect(owner('srv/app/link')).toBe(`${start + 999}:${gstart + 999}`);
    expect(owner('srv/nobody')).toBe(`${start + 65533}:${gstart + 65533}`);
    expect(statSync(join(root, 'srv/app/suid')).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(root, 'srv/app')).mode & 0o7777).toBe(0o751);
    expect(existsSync(join(root, '../layer.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(root, '../layer.shifted.json'), 'utf8')).idShift).toBe(`uid=0:${user.uid}:1,1:${start}:65535;gid=0:${user.gid}:1,1:${gstart}:65535`);
    // Inside: the tar's owners.
    const r = await asUser(user, ['run', '--image', image, '--', 'stat -c "%u:%g %a %n" /srv/rootfile /srv/app /srv/app/file /srv/app/suid /srv/nobody; stat -c "%u %n" /srv/app/link']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      '0:0 644 /srv/rootfile', '1000:1000 751 /srv/app', '1000:1000 644 /srv/app/file', '1000:1000 4755 /srv/app/suid', '65534:65534 644 /srv/nobody', '1000 /srv/app/link',
    ]);
  });

  it('a file that uid 1000 makes in a directory of its own (mode 0700) is gone after delete, and so is the container', async () => {
    const image = await layout([
      { name: 'home/', type: 'directory' },
      { name: 'home/app/', type: 'directory', uid: 1000, gid: 1000 },
    ], { User: '1000:1000' });
    const id = 'owners-del';
    // A symlink to a host path the user owns (its target is only a string inside): the removal never follows it.
    const keep = join(user.work, 'keep');
    mkdirSync(keep);
    writeFileSync(join(keep, 'file'), 'k');
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, keep]);
    const r = await asUser(user, ['run', '--image', image, id, '--', `id -u; mkdir -p /home/app/d/e && echo x > /home/app/d/e/f && ln -s ${keep} /home/app/d/host && ln -s ${keep}/file /home/app/d/e/hostfile && chmod 0500 /home/app/d/e && chmod 0700 /home/app/d && echo made`], { detached: false });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['1000', 'made']);
    expect(r.exitCode).toBe(0);
    // A foreground run deletes its container: nothing of it may stay in the user's state root.
    expect(readdirSync(join(user.runtimeDir, 'tsrun'))).toEqual([]);
    expect(readdirSync(keep)).toEqual(['file']);
    // create/start/delete: the same through `delete`.
    const c = await asUser(user, ['run', '-d', '--image', image, id, '--', 'mkdir -p /home/app/g && touch /home/app/g/h && chmod 0500 /home/app/g']);
    expect(c.stderr).toBe('');
    expect(c.exitCode).toBe(0);
    const upper = join(user.runtimeDir, 'tsrun', id, 'upper');
    for (let i = 0; i < 100 && !existsSync(join(upper, 'home/app/g/h')); i++) await new Promise((res) => setTimeout(res, 50));
    expect(statSync(join(upper, 'home/app/g')).uid).toBe(user.subuid!.start + 999);
    const d = await asUser(user, ['delete', '--force', id]);
    expect(d.stderr).toBe('');
    expect(d.exitCode).toBe(0);
    expect(readdirSync(join(user.runtimeDir, 'tsrun'))).toEqual([]);
  });

  it('--keep-upper: what uid 1000 wrote is the user\'s subordinate id\'s, which rm -rf as the user cannot remove; image rm-upper does', async () => {
    const image = await layout([
      { name: 'home/', type: 'directory' },
      { name: 'home/app/', type: 'directory', uid: 1000, gid: 1000 },
    ], { User: '1000:1000' });
    const r = await asUser(user, ['run', '--keep-upper', '--image', image, 'owners-keep', '--', 'mkdir -p /home/app/k/l && echo x > /home/app/k/l/m && chmod 0500 /home/app/k/l && echo made']);
    expect(r.stdout).toBe('made\n');
    expect(r.exitCode).toBe(0);
    const kept = /is kept in (\S+)\n$/.exec(r.stderr)?.[1];
    expect(kept, r.stderr).toBeDefined();
    expect(statSync(join(kept!, 'home/app/k')).uid).toBe(user.subuid!.start + 999);
    // The README's advice before: rm -rf, which cannot enter or empty a directory of a subordinate id.
    const rmrf = execFileSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', 'sh', '-c', `rm -rf '${join(kept!, '..')}' 2>/dev/null; echo $?`], { encoding: 'utf8' });
    expect(rmrf.trim()).not.toBe('0');
    expect(existsSync(join(kept!, 'home/app/k/l/m'))).toBe(true);
    const gone = await asUser(user, ['image', 'rm-upper', kept!]);
    expect(gone.stderr).toBe('');
    expect(gone.stdout).toBe(`removed ${join(kept!, '..')}\n`);
    expect(gone.exitCode).toBe(0);
    expect(readdirSync(join(store(), 'uppers'))).toEqual([]);
  });

  it('a top layer whose root directory belongs to uid 1000 runs (the upper dir cannot take that owner: / shows as root\'s)', async () => {
    const image = await layout([{ name: './', type: 'directory', uid: 1000, gid: 1000, mode: 0o755 }, { name: 'top', data: 't', uid: 1000, gid: 1000 }]);
    const r = await asUser(user, ['run', '--image', image, '--', 'stat -c %u /top']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1000');
    expect(r.exitCode).toBe(0);
  });

  it('file capabilities survive: set after the chown, in the user namespace, stored for its root (v3, rootid = the user)', async () => {
    // security.capability v2: effective, permitted CAP_KILL (bit 5).
    const caps = Buffer.from([0x01, 0, 0, 0x02, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const marker = 'C'.repeat(caps.length);
    const tar = await makeTar([
      { name: 'caps/', type: 'directory' },
      { name: 'caps/root-owned', data: 'r', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': marker } },
      { name: 'caps/app-owned', data: 'a', mode: 0o4755, uid: 1000, gid: 1000, pax: { 'SCHILY.xattr.security.capability': marker } },
    ]);
    // The PAX record's value is raw bytes (tar-stream writes strings): patched in place, as GNU tar would write it.
    let patched = tar;
    for (let at = patched.indexOf(marker); at >= 0; at = patched.indexOf(marker)) patched = Buffer.concat([patched.subarray(0, at), caps, patched.subarray(at + caps.length)]);
    const dir = join(user.work, `layout${++n}`);
    writeLayout(dir, [base, patched], { config: { config: { Entrypoint: ['/bin/sh', '-c'] } } });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
    const imp = await asUser(user, ['image', 'import', dir]);
    expect(imp.stderr).toBe('');
    expect(imp.exitCode).toBe(0);
    const root = layerWith('caps/app-owned');
    const uidLE = (b: Buffer): number => b.readUInt32LE(20);
    for (const f of ['caps/root-owned', 'caps/app-owned']) {
      const v = lgetxattr(join(root, f), 'security.capability')!;
      expect(v.readUInt32LE(0), f).toBe(0x03000001); // VFS_CAP_REVISION_3 | effective
      expect(v.readUInt32LE(4), f).toBe(0x20);
      expect(uidLE(v), f).toBe(user.uid);
    }
    expect(lstatSync(join(root, 'caps/app-owned')).uid).toBe(user.subuid!.start + 999);
    expect(statSync(join(root, 'caps/app-owned')).mode & 0o7777).toBe(0o4755);
    const r = await asUser(user, ['run', '--image', dir, '--', 'stat -c "%u %a %n" /caps/root-owned /caps/app-owned']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['0 755 /caps/root-owned', '1000 4755 /caps/app-owned']);
  });

  it('image unpack of a layer with a private file of a subordinate id: one line saying why and what to do; nothing left', async () => {
    const image = await layout([{ name: 'priv/', type: 'directory' }, { name: 'priv/key', data: 'k', uid: 1000, gid: 1000, mode: 0o600 }]);
    expect((await asUser(user, ['image', 'import', image])).exitCode).toBe(0);
    const bundle = join(user.work, `unpacked${n}`);
    const r = await asUser(user, ['image', 'unpack', `layout${n}:latest`, bundle], { cwd: user.home });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: image unpack: EACCES from \S+ \S+priv\/key: this store's layers keep the image's owners as \S+'s subordinate ids, whose private files \S+ cannot read; run the image with `tsrun run --image` instead, or unpack it as root\n$/);
    expect(existsSync(join(bundle, 'rootfs'))).toBe(false);
  });

  it('an owner beyond the range is refused, naming the entry and the range; nothing of the layer stays', async () => {
    const image = await layout([{ name: 'big', data: 'x', uid: 70000, gid: 0 }]);
    const imp = await asUser(user, ['image', 'import', image]);
    expect(imp.exitCode).not.toBe(0);
    expect(imp.stderr).toMatch(/layer entry "big": its owner uid 70000 is outside the uids this user's containers have \(0-65535/);
    expect(imp.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(join(store(), 'tmp'))).toEqual([]);
  });

  it('a hostile layer (a symlink out, then entries through it; .. paths) cannot make a chown land outside the layer', async () => {
    const outside = join(user.work, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'v');
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, outside]);
    chmodSync(outside, 0o755);
    // Entries through a symlink out land inside the layer (the symlink's target taken from the
    // layer root) and are chowned there; `..` out of the layer is refused.
    const image = await layout([
      { name: 'esc', type: 'symlink', linkname: outside, uid: 1000, gid: 1000 },
      { name: 'esc/victim', data: 'owned', uid: 1000, gid: 1000 },
      { name: 'esc/new', data: 'owned', uid: 1000, gid: 1000 },
      { name: 'dir/', type: 'directory', uid: 1000, gid: 1000 },
    ]);
    const imp = await asUser(user, ['image', 'import', image]);
    expect(imp.stderr).toBe('');
    expect(imp.exitCode).toBe(0);
    const root = layerWith('esc');
    expect(lstatSync(join(root, outside, 'victim')).uid).toBe(user.subuid!.start + 999);
    expect(lstatSync(join(root, 'dir')).uid).toBe(user.subuid!.start + 999);
    const up = { name: 'dir/up', type: 'symlink' as const, linkname: '../../../../../..', uid: 1000, gid: 1000 };
    for (const entries of [[{ name: '../escaped' }], [{ name: 'dir/../../dotdot' }], [{ name: 'dir/', type: 'directory' as const }, up, { name: 'dir/up/dotdot' }]]) {
      const bad = await asUser(user, ['image', 'import', await layout(entries.map((e) => ({ uid: 1000, gid: 1000, ...('type' in e ? {} : { data: 'owned' }), ...e })))]);
      expect(bad.exitCode).not.toBe(0);
      expect(bad.stderr).toMatch(/refusing layer entry/);
    }
    // Whatever the import made of it, nothing outside the layer changed owner or appeared.
    expect(readdirSync(outside)).toEqual(['victim']);
    expect(statSync(join(outside, 'victim')).uid).toBe(user.uid);
    expect(readFileSync(join(outside, 'victim'), 'utf8')).toBe('v');
    expect(statSync(outside).uid).toBe(user.uid);
    expect(existsSync(join(user.work, 'escaped'))).toBe(false);
    expect(existsSync(join(store(), 'escaped'))).toBe(false);
    expect(existsSync(join(store(), 'layers', 'dotdot'))).toBe(false);
  });

  it('a layer unpacked unshifted (an older store) or with other maps is unpacked again by run --image, and refused by a run of the record', async () => {
    const image = await layout([{ name: 'opt/', type: 'directory' }, { name: 'opt/owned', data: 'o', uid: 1000, gid: 1000 }]);
    expect((await asUser(user, ['image', 'import', image])).exitCode).toBe(0);
    const root = layerWith('opt/owned');
    // As an older tsrun left it: the user's own ids, layer.json without idShift.
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, root]);
    const info = JSON.parse(readFileSync(join(root, '../layer.shifted.json'), 'utf8')) as Record<string, unknown>;
    delete info.idShift;
    writeFileSync(join(root, '../layer.json'), JSON.stringify(info));
    rmSync(join(root, '../layer.shifted.json'));
    const byName = await asUser(user, ['run', '--image', `layout${n}:latest`, '--', 'stat -c %u /opt/owned'], { cwd: user.home }); // not the layout's dir: the name, not the source
    expect(byName.exitCode).not.toBe(0);
    expect(byName.stderr).toMatch(/layer sha256:[0-9a-f]{64} has owners of other id maps; import it again/);
    const r = await asUser(user, ['run', '--image', image, '--', 'stat -c %u /opt/owned']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('1000');
    expect(lstatSync(join(layerWith('opt/owned'), 'opt/owned')).uid).toBe(user.subuid!.start + 999);
  });

  it('an import after one killed past its chowns removes the dead scratch dir, files of subordinate ids included', async () => {
    const dead = join(store(), 'tmp', '1-dead', 'root', 'srv');
    mkdirSync(join(dead, 'sub'), { recursive: true });
    writeFileSync(join(dead, 'sub', 'f'), 'x');
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, join(store(), 'tmp', '1-dead')]);
    execFileSync('chown', ['-R', `${user.subuid!.start + 999}:${user.subgid!.start + 999}`, dead]);
    const image = await layout([{ name: 'x', data: 'x' }]);
    const imp = await asUser(user, ['image', 'import', image]);
    expect(imp.stderr).toBe('');
    expect(imp.exitCode).toBe(0);
    expect(readdirSync(join(store(), 'tmp'))).toEqual([]);
  });

  it('image prune removes shifted layers (files of subordinate ids) completely', async () => {
    for (let i = 1; i <= n; i++) await asUser(user, ['image', 'rm', `layout${i}:latest`]); // the failed imports have none
    expect((await asUser(user, ['image', 'ls'])).stdout).not.toMatch(/layout/);
    expect(readdirSync(join(store(), 'layers')).length).toBeGreaterThan(0);
    const p = await asUser(user, ['image', 'prune']);
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(0);
    expect(readdirSync(join(store(), 'layers'))).toEqual([]);
    expect(readdirSync(join(store(), 'tmp'))).toEqual([]);
  });
});

describe.skipIf(skip !== undefined)(`rootless: image owners without subordinate ids${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let user: RootlessUser;
  beforeAll(() => { user = createRootlessUser({ subordinateIds: false }); });
  afterAll(() => { if (user) removeRootlessUser(user); });

  it('keeps today\'s behaviour (every file the user\'s own, root\'s inside) and says so once, with the fix', async () => {
    expect(user.subuid).toBeUndefined();
    const layout = join(user.work, 'layout');
    const base = execFileSync('tar', ['-C', SAMPLE_ROOTFS, '--owner=0', '--group=0', '-cf', '-', '.'], { maxBuffer: 64 << 20 });
    writeLayout(layout, [base, await makeTar([{ name: 'srv/', type: 'directory' }, { name: 'srv/app', data: 'a', uid: 1000, gid: 50 }])], { config: { config: { Entrypoint: ['/bin/sh', '-c'] } } });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, layout]);
    const imp = await asUser(user, ['image', 'import', layout]);
    expect(imp.exitCode).toBe(0);
    expect(imp.stderr).toMatch(new RegExp(`^tsrun: note: 1 file of this image belongs to other users than root; ${user.name} has no subordinate ids \\(/etc/subuid, /etc/subgid\\), so they are root's inside the container\\. Grant a range as root \\(usermod --add-subuids`));
    expect(imp.stderr.trim().split('\n')).toHaveLength(1);
    const r = await asUser(user, ['run', '--image', layout, '--', 'stat -c %u:%g /srv/app']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('0:0');
    const greeting = execFileSync('sh', ['-c', `ls -n ${join(user.home, '.local/share/tsrun/layers')}/*/root/srv/app | awk '{print $3}'`], { encoding: 'utf8' }).trim();
    expect(greeting).toBe(String(user.uid));
  });
});
