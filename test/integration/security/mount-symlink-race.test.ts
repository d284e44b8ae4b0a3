// Class: mount destinations that lead out of the rootfs through symlinks, fixed or swapped in while
// the runtime resolves them (CVE-2021-30465, runc GHSA-c3xm-pvg7-gh7r; the race of CVE-2019-19921).
// A mount that lands outside the rootfs is invisible to the container once pivot_root drops the old
// root, and runc showed how a later mount can then use it to bind the host's / in. tsrun resolves
// every destination component by component inside the rootfs (openat2 RESOLVE_IN_ROOT: an absolute
// symlink starts at the rootfs, `..` stops at it) and mounts on the fd it resolved, so a symlink
// swapped in afterwards changes nothing. Proof: the mount always shows up in the container's own
// mount table, and the host directory the symlinks name is never touched.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { entries, hostileBundle, hostScratch, removeScratch, startSwapper } from './audit-support.js';

const skip = cannotRunContainers();

/** A bind source whose mount the container can find in its mountinfo by the source's name. */
function source(): string {
  const s = hostScratch('source');
  writeFileSync(join(s, 'marker'), 'from the source\n');
  return s;
}

describe.skipIf(skip !== undefined)(`security: mount destinations through symlinks${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeScratch);

  it('a destination whose path is an absolute symlink to a host directory lands inside the rootfs', async () => {
    const host = hostScratch('target');
    const src = source();
    const bundle = hostileBundle(`cat /data/marker; grep -c ${basename(src)} /proc/self/mountinfo; cat ${host}/marker`, {
      hostile: (rootfs) => symlinkSync(host, join(rootfs, 'data')),
      mutate: (spec) => { spec.mounts = [...spec.mounts!, { destination: '/data', type: 'bind', source: src, options: ['rbind'] }]; },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    // Through the link, inside the container; and at the link's target *inside the rootfs*.
    expect(r.stdout).toBe('from the source\n1\nfrom the source\n');
    expect(entries(host)).toEqual([]);
  });

  it('a destination of ../ components and a relative symlink chain that climbs above / stays inside', async () => {
    const host = hostScratch('target');
    const src = source();
    const bundle = hostileBundle(`grep -c ${basename(src)} /proc/self/mountinfo; cat /up/marker`, {
      hostile: (rootfs) => { symlinkSync(`../../../../../../..${host}`, join(rootfs, 'up')); },
      mutate: (spec) => {
        spec.mounts = [...spec.mounts!,
          { destination: `/../../../../..${host}/a`, type: 'bind', source: src, options: ['rbind'] },
          { destination: '/up', type: 'bind', source: src, options: ['rbind'] }];
      },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('2\nfrom the source\n');
    expect(entries(host)).toEqual([]);
  });

  it('a container sharing the volume swaps the destination\'s directory for a symlink to the host while others start: every mount lands inside', async () => {
    const volume = hostScratch('volume');
    const host = hostScratch('target');
    const src = source();
    const swapper = await startSwapper(volume, host);
    const outcomes: string[] = [];
    try {
      // At least 12 runs, and on until one ran through: under load the swapper may win every race
      // of 12 (mkdir-race.test.ts's twin loop did, in CI), which would prove nothing about where mounts land.
      for (let i = 0; i < 12 || (!outcomes.includes('1') && i < 150); i++) {
        const bundle = hostileBundle(`grep -c ${basename(src)} /proc/self/mountinfo`, {
          hostile: (rootfs) => mkdirSync(join(rootfs, 'v'), { recursive: true }),
          mutate: (spec) => {
            spec.mounts = [...spec.mounts!,
              { destination: '/v', type: 'bind', source: volume, options: ['rbind'] },
              { destination: `/v/d/m${i}`, type: 'bind', source: src, options: ['rbind'] }];
          },
        });
        const r = await runBundle(bundle);
        // A run may fail cleanly (a rename left /v/d missing for a moment); one that ran saw its mount.
        outcomes.push(r.exitCode === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim()}`);
        bundle.remove();
      }
    } finally {
      const swaps = await swapper.stop();
      expect(swaps).toBeGreaterThan(0);
    }
    for (const o of outcomes) expect(o).toMatch(/^(1|failed: tsrun: mount .*mounts\[8\].*)$/);
    expect(outcomes.filter((o) => o === '1').length).toBeGreaterThan(0);
    expect(entries(host)).toEqual([]);
  });
});
