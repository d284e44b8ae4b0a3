// Class: the runtime creating empty directories and files on the host while it makes mount points
// (CVE-2024-45310, runc GHSA-jfvp-7x6p-h2pv; crun CVE-2026-47766 for /dev). A missing mount
// destination is created before the mount: runc's MkdirAll and O_CREAT followed symlinks that a
// container sharing the volume swapped in, and made empty directories and files on the host (a
// daemon's conf.d, say). tsrun creates each missing component with mkdirat/openat(O_CREAT|O_EXCL|
// O_NOFOLLOW) relative to a directory fd it resolved inside the rootfs, so a symlink met on the way
// is followed inside the rootfs. Proof: the host directory the symlinks name stays empty.
import { symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { entries, hostileBundle, hostScratch, removeScratch, startSwapper } from './audit-support.js';

const skip = cannotRunContainers();

describe.skipIf(skip !== undefined)(`security: mount points created through symlinks${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeScratch);

  it('a file and a directory chain to create under a symlink to a host directory are made inside the rootfs', async () => {
    const host = hostScratch('target');
    const src = hostScratch('source');
    writeFileSync(join(src, 'file'), 'a file\n');
    const bundle = hostileBundle('cat /data/f; ls -d /data/x/y/z', {
      hostile: (rootfs) => symlinkSync(host, join(rootfs, 'data')),
      mutate: (spec) => {
        spec.mounts = [...spec.mounts!,
          { destination: '/data/f', type: 'bind', source: join(src, 'file'), options: ['bind'] },
          { destination: '/data/x/y/z', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] }];
      },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('a file\n/data/x/y/z\n');
    expect(entries(host)).toEqual([]);
    // Where they went: the link's target, read inside the rootfs.
    expect(entries(join(bundle.rootfs, host))).toEqual(['f', 'x']);
  });

  it('with a container swapping a shared volume\'s directory for a symlink to the host, nothing is created on the host', async () => {
    const volume = hostScratch('volume');
    const host = hostScratch('target');
    const src = hostScratch('source');
    writeFileSync(join(src, 'file'), 'a file\n');
    const swapper = await startSwapper(volume, host);
    let ran = 0;
    try {
      // At least 12 runs, and on until one ran through: under load the swapper wins most races and
      // every run may be refused (12 of 12 once in CI), which would prove nothing about creation.
      for (let i = 0; i < 12 || (ran === 0 && i < 150); i++) {
        const bundle = hostileBundle('true', {
          hostile: (rootfs) => mkdirSync(join(rootfs, 'v'), { recursive: true }),
          mutate: (spec) => {
            spec.mounts = [...spec.mounts!,
              { destination: '/v', type: 'bind', source: volume, options: ['rbind'] },
              { destination: `/v/d/f${i}`, type: 'bind', source: join(src, 'file'), options: ['bind'] },
              { destination: `/v/d/x${i}/y/z`, type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] }];
          },
        });
        const r = await runBundle(bundle);
        if (r.exitCode === 0) ran += 1;
        else expect(r.stderr).toMatch(/^tsrun: mount .*mounts\[(8|9)\]/);
        bundle.remove();
      }
    } finally {
      expect(await swapper.stop()).toBeGreaterThan(0);
    }
    expect(ran).toBeGreaterThan(0);
    expect(entries(host)).toEqual([]);
  });
});
