// Class: /dev set-up through symlinks of the image (runc CVE-2026-41579 / GHSA-xjvp-4fhw-gc47, crun
// CVE-2026-47766; device node creation through symlinks). When the config mounts no tmpfs on /dev,
// the image's /dev is used: runc and crun created default device nodes and /dev symlinks on paths
// before pivot_root, so an image whose /dev is a symlink to a host directory had them made there.
// tsrun makes every node and link with mknodat/symlinkat relative to a directory it resolved inside
// the rootfs, and never writes through an existing entry (EEXIST is kept as it is).
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { entries, hostileBundle, hostScratch, removeScratch } from './audit-support.js';

const skip = cannotRunContainers();

/** The config's /dev tmpfs left out; its devpts, shm and mqueue mounts stay; one extra device node. */
function imageDev(spec: Spec): void {
  spec.mounts = spec.mounts!.filter((m) => m.destination !== '/dev');
  spec.linux!.devices = [{ path: '/dev/audit-null', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
}

describe.skipIf(skip !== undefined)(`security: /dev through symlinks of the image${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeScratch);

  it('/dev -> a host directory: device nodes, /dev symlinks and /dev mounts are all made inside the rootfs', async () => {
    const host = hostScratch('dev');
    const bundle = hostileBundle('stat -c "%n %F %t:%T" /dev/null /dev/audit-null; readlink /dev/fd; readlink /dev/ptmx; grep -c " /dev/pts " /proc/self/mountinfo', {
      hostile: (rootfs) => { rmSync(join(rootfs, 'dev'), { recursive: true, force: true }); symlinkSync(host, join(rootfs, 'dev')); },
      mutate: imageDev,
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/dev/null character special file 1:3\n/dev/audit-null character special file 1:3\n/proc/self/fd\npts/ptmx\n0\n');
    expect(entries(host)).toEqual([]);
    expect(entries(join(bundle.rootfs, host))).toEqual(expect.arrayContaining(['audit-null', 'fd', 'null', 'ptmx', 'pts', 'shm']));
  });

  it('/dev/pts -> a host directory: the container\'s devpts lands inside the rootfs', async () => {
    const host = hostScratch('pts');
    const bundle = hostileBundle('grep -c " - devpts " /proc/self/mountinfo; ls /dev/pts/ptmx', {
      hostile: (rootfs) => { mkdirSync(join(rootfs, 'dev'), { recursive: true }); symlinkSync(host, join(rootfs, 'dev/pts')); },
      mutate: imageDev,
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1\n/dev/pts/ptmx\n');
    expect(entries(host)).toEqual([]);
  });

  it('existing entries of the image are never written through: /dev/tty -> a host file keeps the host file as it was', async () => {
    const host = hostScratch('file');
    const file = join(host, 'precious');
    writeFileSync(file, 'host data\n');
    const bundle = hostileBundle('true', {
      hostile: (rootfs) => { mkdirSync(join(rootfs, 'dev'), { recursive: true }); symlinkSync(file, join(rootfs, 'dev/tty')); symlinkSync(file, join(rootfs, 'dev/audit-null')); },
      mutate: imageDev,
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('host data\n');
    expect(entries(host)).toEqual(['precious']);
  });
});
