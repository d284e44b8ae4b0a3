// config.json `mounts` on a real container: tmpfs options, bind mounts (ro, rw, a single file,
// noexec), destinations created on demand, symlinks in the rootfs that must not lead outside it,
// and the host's mount table left untouched during and after the run.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  cannotRunContainers, containerTestHooks, makeBundle, mountDiff, mountPoints, runScript, sh, startTsrun, waitForBuild, waitForOutput,
} from '../../helpers/bundle.js';

const skip = cannotRunContainers();

/** "mountpoint fstype mount-options super-options" of the mounts whose mount point is listed. */
const MOUNTINFO = (paths: string[]): string =>
  `for p in ${paths.join(' ')}; do awk -v p="$p" '$5 == p { for (i = 7; $i != "-"; i++) {}; print $5, $(i+1), $6, $(i+3) }' /proc/self/mountinfo; done`;

const hostTemps: string[] = [];
function hostTempDir(what: string): string {
  const d = mkdtempSync(join(tmpdir(), `tsrun-it-host-${what}-`));
  hostTemps.push(d);
  return d;
}

describe.skipIf(skip !== undefined)(`tsrun run: mounts${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  beforeEach(waitForBuild);
  afterEach(() => {
    for (const d of hostTemps.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  describe('tmpfs', () => {
    it('size and mode options reach the filesystem; nosuid/nodev/noexec become mount flags', async () => {
      const r = await runScript(`stat -c %a /mnt/t; ${MOUNTINFO(['/mnt/t'])}`, {
        mutate: (s) => { s.mounts!.push({ destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'size=1m', 'mode=700'] }); },
      });
      expect(r.stderr).toBe('');
      const [mode, info] = r.stdout.trim().split('\n');
      expect(mode).toBe('700');
      const [point, fstype, mopts, superopts] = info!.split(' ');
      expect([point, fstype]).toEqual(['/mnt/t', 'tmpfs']);
      expect(mopts!.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
      expect(superopts!.split(',')).toEqual(expect.arrayContaining(['size=1024k', 'mode=700']));
    });

    it('the size limit is enforced (writing 2 MiB into a 1 MiB tmpfs fails with ENOSPC)', async () => {
      const r = await runScript('dd if=/dev/zero of=/mnt/t/big bs=1024 count=2048 2>&1; ls -l /mnt/t/big | awk "{print \\$5}"', {
        mutate: (s) => { s.mounts!.push({ destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }); },
      });
      expect(r.stdout).toMatch(/No space left on device/);
      expect(r.stdout.trim().split('\n').at(-1)).toBe(String(1024 * 1024));
    });

    it('ro tmpfs refuses writes', async () => {
      const r = await runScript('touch /mnt/ro/x; echo rc=$?', {
        mutate: (s) => { s.mounts!.push({ destination: '/mnt/ro', type: 'tmpfs', source: 'tmpfs', options: ['ro'] }); },
      });
      expect(r.stderr).toMatch(/touch: \/mnt\/ro\/x: Read-only file system/);
      expect(r.stdout).toBe('rc=1\n');
    });
  });

  describe('bind mounts', () => {
    it('ro bind of a host directory: reads work, writes are refused, the host directory is unchanged', async () => {
      const host = hostTempDir('ro');
      writeFileSync(join(host, 'hello.txt'), 'host data\n');
      const r = await runScript('cat /data/hello.txt; touch /data/new; echo rc=$?; echo x >> /data/hello.txt; echo rc=$?', {
        mutate: (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro'] }); },
      });
      expect(r.stdout).toBe('host data\nrc=1\nrc=1\n');
      expect(r.stderr).toMatch(/touch: \/data\/new: Read-only file system/);
      expect(readdirSync(host)).toEqual(['hello.txt']);
      expect(readFileSync(join(host, 'hello.txt'), 'utf8')).toBe('host data\n');
    });

    it('rw bind of a host directory: writes land on the host', async () => {
      const host = hostTempDir('rw');
      const r = await runScript('echo from-container > /data/out.txt && echo ok', {
        mutate: (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['bind', 'rw'] }); },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('ok\n');
      expect(readFileSync(join(host, 'out.txt'), 'utf8')).toBe('from-container\n');
    });

    it('a bind mount written as options ["bind"] with type "none" works the same', async () => {
      const host = hostTempDir('none');
      writeFileSync(join(host, 'f'), 'via none\n');
      const r = await runScript('cat /data/f', {
        mutate: (s) => { s.mounts!.push({ destination: '/data', type: 'none', source: host, options: ['bind', 'ro'] }); },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('via none\n');
    });

    it('bind of a single file onto a path that does not exist yet (created as a file)', async () => {
      const host = hostTempDir('file');
      writeFileSync(join(host, 'info'), 'single file\n');
      const r = await runScript('cat /etc/hostinfo; stat -c %F /etc/hostinfo; echo x > /etc/hostinfo; echo rc=$?', {
        mutate: (s) => { s.mounts!.push({ destination: '/etc/hostinfo', type: 'bind', source: join(host, 'info'), options: ['bind', 'ro'] }); },
      });
      expect(r.stdout).toBe('single file\nregular file\nrc=1\n');
      expect(r.stderr).toMatch(/Read-only file system/);
      expect(readFileSync(join(host, 'info'), 'utf8')).toBe('single file\n');
    });

    it('a bind-mount source relative to the bundle directory', async () => {
      const r = await runScript('cat /data/rel.txt', {
        mutate: (s, b) => {
          mkdirSync(join(b.dir, 'reldir'));
          writeFileSync(join(b.dir, 'reldir', 'rel.txt'), 'relative source\n');
          s.mounts!.push({ destination: '/data', type: 'bind', source: 'reldir', options: ['bind', 'ro'] });
        },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('relative source\n');
    });

    it('noexec on a bind mount refuses to execute a program from it', async () => {
      const host = hostTempDir('noexec');
      writeFileSync(join(host, 'prog'), '#!/bin/sh\necho executed\n');
      chmodSync(join(host, 'prog'), 0o755);
      const r = await runScript('/data/prog; echo rc=$?', {
        mutate: (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['bind', 'noexec'] }); },
      });
      expect(r.stdout).toBe('rc=126\n');
      expect(r.stderr).toMatch(/Permission denied/);
    });

    it('without noexec the same program runs (so the test above can fail)', async () => {
      const host = hostTempDir('exec');
      writeFileSync(join(host, 'prog'), '#!/bin/sh\necho executed\n');
      chmodSync(join(host, 'prog'), 0o755);
      const r = await runScript('/data/prog; echo rc=$?', {
        mutate: (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['bind'] }); },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('executed\nrc=0\n');
    });

    it('a bind-mount source that does not exist names its field and leaves nothing behind', async () => {
      const r = await runScript('echo should-not-run', {
        mutate: (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent/tsrun-it-src', options: ['bind'] }); },
      });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/mounts\[7\]\.source/);
      expect(r.stderr).toMatch(/\/nonexistent\/tsrun-it-src/);
      expect(r.exitCode).not.toBe(0);
    });
  });

  describe('destinations', () => {
    it('a destination that does not exist is created inside the rootfs (with its parents)', async () => {
      const r = await runScript('stat -c %F /new/deep/dir; grep -c " /new/deep/dir " /proc/self/mountinfo', {
        mutate: (s) => { s.mounts!.push({ destination: '/new/deep/dir', type: 'tmpfs', source: 'tmpfs' }); },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('directory\n1\n');
      expect(existsSync(join(r.bundle.rootfs, 'new/deep/dir'))).toBe(true);
    });

    // The security property alone, for every escape shape below: whatever tsrun does with these
    // destinations (succeed or refuse), nothing is created, written or mounted on the host.
    it('symlinks in the rootfs pointing at host paths never make tsrun create, write or mount on the host', async () => {
      const hostParent = hostTempDir('escape0');
      const missing = join(hostParent, 'missing');
      const existing = join(hostParent, 'existing');
      mkdirSync(existing);
      writeFileSync(join(existing, 'canary'), 'host\n');
      const src = hostTempDir('src0');
      writeFileSync(join(src, 'payload'), 'payload\n');
      const shapes: { link: string; target: string; mount: { destination: string; type: string; source: string; options: string[] } }[] = [
        { link: 'abs-missing', target: missing, mount: { destination: '/abs-missing', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] } },
        { link: 'abs-existing', target: existing, mount: { destination: '/abs-existing', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] } },
        { link: 'rel-missing', target: `../../../../../../../../..${missing}`, mount: { destination: '/rel-missing/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] } },
        { link: 'parent', target: existing, mount: { destination: '/parent/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] } },
        { link: 'file', target: join(existing, 'canary'), mount: { destination: '/file', type: 'bind', source: join(src, 'payload'), options: ['bind', 'ro'] } },
        { link: 'bind-dir', target: existing, mount: { destination: '/bind-dir', type: 'bind', source: src, options: ['rbind', 'rw'] } },
      ];
      for (const shape of shapes) {
        const r = await runScript('echo x > /file 2>/dev/null; touch /abs-existing/x /parent/sub/x /bind-dir/x 2>/dev/null; echo ran', {
          prepareRootfs: (rootfs) => symlinkSync(shape.target, join(rootfs, shape.link)),
          mutate: (s) => { s.mounts!.push(shape.mount); },
        });
        expect({ shape: shape.link, host: readdirSync(hostParent).sort() }).toEqual({ shape: shape.link, host: ['existing'] });
        expect({ shape: shape.link, host: readdirSync(existing) }).toEqual({ shape: shape.link, host: ['canary'] });
        expect(readFileSync(join(existing, 'canary'), 'utf8')).toBe('host\n');
        // bind-dir mounts src read-write, so the container's `touch /bind-dir/x` rightly lands in src.
        expect(readdirSync(src).sort()).toEqual(shape.link === 'bind-dir' && r.exitCode === 0 ? ['payload', 'x'] : ['payload']);
        expect(r.exitCode === 0 || /tsrun: /.test(r.stderr)).toBe(true);
      }
    });

    it('an absolute symlink to a directory that exists inside the rootfs: the mount lands there', async () => {
      const r = await runScript('stat -f -c %T /inlink/ /tmp/inside/; readlink /inlink', {
        prepareRootfs: (rootfs) => {
          mkdirSync(join(rootfs, 'tmp/inside'));
          symlinkSync('/tmp/inside', join(rootfs, 'inlink'));
        },
        mutate: (s) => { s.mounts!.push({ destination: '/inlink', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }); },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('tmpfs\ntmpfs\n/tmp/inside\n');
    });

    it('an absolute symlink dangling in the rootfs (to a host path) as destination: the target is created and mounted inside the rootfs', async () => {
      const hostParent = hostTempDir('escape');
      const hostTarget = join(hostParent, 'target'); // does not exist on the host
      const r = await runScript(`stat -f -c %T /evil/; readlink /evil; stat -f -c %T ${hostTarget}/`, {
        prepareRootfs: (rootfs) => symlinkSync(hostTarget, join(rootfs, 'evil')),
        mutate: (s) => { s.mounts!.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }); },
      });
      // Nothing was created on the host, and (checked after the test) nothing was mounted there.
      expect(existsSync(hostTarget)).toBe(false);
      expect(readdirSync(hostParent)).toEqual([]);
      expect(r.stderr).toBe('');
      // Inside, the tmpfs is where the symlink leads when resolved in the container: <rootfs>/<hostTarget>.
      expect(r.stdout).toBe(`tmpfs\n${hostTarget}\ntmpfs\n`);
      expect(existsSync(join(r.bundle.rootfs, hostTarget))).toBe(true);
    });

    it('an absolute symlink to an existing host directory as destination: the container gets the mount, the host directory is not touched or shadowed', async () => {
      const hostDir = hostTempDir('escape2');
      writeFileSync(join(hostDir, 'canary'), 'host\n');
      const bundle = makeBundle({
        prepareRootfs: (rootfs) => symlinkSync(hostDir, join(rootfs, 'evil')),
        mutate: (s, b) => {
          s.root!.readonly = false;
          s.mounts!.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
          s.process!.args = sh('trap "exit 0" TERM; touch /evil/from-container; ls -A /evil; echo ready; while :; do sleep 0.1; done', b.marker);
        },
      });
      const before = mountPoints();
      const proc = startTsrun(['run', '--bundle', bundle.dir]);
      await waitForOutput(proc, 'ready');
      // While the container runs: nothing mounted on the host's directory, nothing written into it.
      expect(mountDiff(before, mountPoints())).toEqual([]);
      expect(readdirSync(hostDir)).toEqual(['canary']);
      proc.kill('SIGTERM');
      const r = await proc;
      expect(String(r.stdout)).toBe('from-container\nready\n');
      expect(readdirSync(hostDir)).toEqual(['canary']);
    });

    it('a relative symlink climbing out with ../.. as destination: created and mounted inside the rootfs', async () => {
      const hostParent = hostTempDir('escape3');
      const hostTarget = join(hostParent, 'target');
      const r = await runScript('stat -f -c %T /evil/', {
        prepareRootfs: (rootfs) => symlinkSync(`../../../../../../../../../..${hostTarget}`, join(rootfs, 'evil')),
        mutate: (s) => { s.mounts!.push({ destination: '/evil', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }); },
      });
      expect(existsSync(hostTarget)).toBe(false);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('tmpfs\n');
    });

    it('a symlinked (dangling in the rootfs) parent of a destination: created and mounted inside the rootfs', async () => {
      const hostDir = hostTempDir('escape4');
      const r = await runScript('stat -f -c %T /link/sub/', {
        prepareRootfs: (rootfs) => symlinkSync(hostDir, join(rootfs, 'link')),
        mutate: (s) => { s.mounts!.push({ destination: '/link/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }); },
      });
      expect(readdirSync(hostDir)).toEqual([]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('tmpfs\n');
    });

    it('a bind-mount destination that is a symlink to a host file: the file is created inside the rootfs and bound, the host file untouched', async () => {
      const hostDir = hostTempDir('escape5');
      const hostFile = join(hostDir, 'precious');
      writeFileSync(hostFile, 'keep me\n');
      const src = hostTempDir('src5');
      writeFileSync(join(src, 'payload'), 'payload\n');
      const r = await runScript('cat /evilfile', {
        prepareRootfs: (rootfs) => symlinkSync(hostFile, join(rootfs, 'evilfile')),
        mutate: (s) => { s.mounts!.push({ destination: '/evilfile', type: 'bind', source: join(src, 'payload'), options: ['bind', 'ro'] }); },
      });
      expect(readFileSync(hostFile, 'utf8')).toBe('keep me\n');
      expect(readdirSync(hostDir)).toEqual(['precious']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('payload\n');
    });
  });

  describe('the host\'s mount table', () => {
    it('is unchanged while the container runs and after it exits (many mounts, bind included)', async () => {
      const host = hostTempDir('table');
      const bundle = makeBundle({
        mutate: (s, b) => {
          s.mounts!.push(
            { destination: '/data', type: 'bind', source: host, options: ['rbind', 'ro'] },
            { destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
          );
          s.process!.args = sh('trap "exit 0" TERM; grep -c . /proc/self/mountinfo; echo ready; while :; do sleep 0.1; done', b.marker);
        },
      });
      const before = mountPoints();
      const proc = startTsrun(['run', '--bundle', bundle.dir]);
      const out = await waitForOutput(proc, 'ready');
      // The container has its own mounts…
      expect(Number(out.split('\n')[0])).toBeGreaterThanOrEqual(10);
      // …none of which show on the host, not even the rootfs bind onto itself.
      expect(mountDiff(before, mountPoints())).toEqual([]);
      expect(mountPoints().filter((m) => m.startsWith(bundle.dir))).toEqual([]);
      proc.kill('SIGTERM');
      const r = await proc;
      expect(r.exitCode).toBe(0);
      expect(mountDiff(before, mountPoints())).toEqual([]);
    });

    it('mounts made inside an rshared bind mount do not propagate to the host', async () => {
      const host = hostTempDir('shared');
      const caps = ['CAP_SYS_ADMIN'];
      const r = await runScript('mount -t tmpfs inner /data && touch /data/in-tmpfs && grep -c " /data " /proc/self/mountinfo', {
        mutate: (s) => {
          s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
          s.mounts!.push({ destination: '/data', type: 'bind', source: host, options: ['rbind', 'rw', 'rshared'] });
        },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('2\n');
      // (The hooks compare the host's mount table; the host directory itself got nothing.)
      expect(readdirSync(host)).toEqual([]);
    });

    it.each(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared'])('linux.rootfsPropagation %s: runs, and the host mount table is unchanged', async (prop) => {
      const r = await runScript('grep -c . /proc/self/mountinfo', {
        mutate: (s) => { s.linux!.rootfsPropagation = prop; },
      });
      expect(r.stderr).toBe('');
      expect(Number(r.stdout)).toBeGreaterThan(5);
      expect(r.exitCode).toBe(0);
    });

    it('/proc, /sys and the cgroup2 mount inside: /sys read-only, /proc writable where allowed', async () => {
      const r = await runScript(`${MOUNTINFO(['/proc', '/sys', '/sys/fs/cgroup'])} | cut -d" " -f1-3 | sed "s/,.*//"; test -e /sys/fs/cgroup/cgroup.procs && echo cgroup2-ok`);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('/proc proc rw\n/sys sysfs ro\n/sys/fs/cgroup cgroup2 ro\ncgroup2-ok\n');
    });
  });
});
