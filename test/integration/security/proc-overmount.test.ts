// Class: a volume mounted over /proc through a symlink of the image (CVE-2019-16884, CVE-2019-19921,
// CVE-2025-52881; runc GHSA-fgv8-vj5c-2ppq, GHSA-fh74-hm69-rqjw, GHSA-cgrx-mc8f-2prm). The config
// mounts a volume at /data; the image makes /data a symlink into /proc (or a container sharing the
// volume swaps a directory for one while tsrun resolves it). tsrun resolves /data inside the rootfs,
// so the mount cannot reach the host, but it lands *on procfs*: what tsrun writes there afterwards
// (the config's sysctls) goes into a file of the volume, and the kernel setting is never applied; in
// runc the same trick left AppArmor labels unwritten. A mount whose destination is not literally
// under /proc must not land on procfs: tsrun refuses it, naming the mount (runc's checkProcMount).
import { mkdirSync, readFileSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { entries, hostileBundle, hostScratch, removeScratch } from './audit-support.js';

const skip = cannotRunContainers();

/** The sample's mounts plus a bind of `source` at `destination` (after /proc, /dev and /sys). */
function withVolume(spec: Spec, source: string, destination: string, extra: Partial<Spec['linux']> = {}): number {
  spec.mounts = [...spec.mounts!, { destination, type: 'bind', source, options: ['rbind', 'rw'] }];
  Object.assign(spec.linux!, extra);
  return spec.mounts.length - 1;
}

describe.skipIf(skip !== undefined)(`security: volumes over /proc${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeScratch);

  it('/data -> /proc/sys/net/ipv4 in the image: the volume mount is refused, and the sysctl never goes into the volume', async () => {
    const volume = hostScratch('volume');
    // What another container sharing the volume left there: a file named like the sysctl.
    writeFileSync(join(volume, 'ip_default_ttl'), '64\n');
    let index = -1;
    const bundle = hostileBundle('cat /proc/sys/net/ipv4/ip_default_ttl', {
      hostile: (rootfs) => symlinkSync('/proc/sys/net/ipv4', join(rootfs, 'data')),
      mutate: (spec) => { index = withVolume(spec, volume, '/data', { sysctl: { 'net.ipv4.ip_default_ttl': '77' } }); },
    });
    const r = await runBundle(bundle);
    expect(readFileSync(join(volume, 'ip_default_ttl'), 'utf8'), 'tsrun wrote the sysctl into the volume').toBe('64\n');
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^tsrun: mount ${volume} on /data .*\\(step \\d+, mounts\\[${index}\\]\\): .*procfs`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('/data -> /proc in the image: a volume over the whole of /proc is refused', async () => {
    const volume = hostScratch('volume');
    let index = -1;
    const bundle = hostileBundle('ls /proc | wc -l', {
      hostile: (rootfs) => symlinkSync('/proc', join(rootfs, 'data')),
      mutate: (spec) => { index = withVolume(spec, volume, '/data'); },
    });
    const r = await runBundle(bundle);
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`mounts\\[${index}\\]\\): .*procfs`));
    expect(entries(volume)).toEqual([]);
  });

  it('a mount the config itself puts under /proc (an lxcfs-style file over /proc/uptime) still works', async () => {
    const volume = hostScratch('lxcfs');
    writeFileSync(join(volume, 'uptime'), '12345.67 0.00\n');
    const bundle = hostileBundle('cat /proc/uptime', {
      mutate: (spec) => { spec.mounts = [...spec.mounts!, { destination: '/proc/uptime', type: 'bind', source: join(volume, 'uptime'), options: ['bind', 'ro'] }]; },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('12345.67 0.00\n');
  });

  it('without the symlink the same volume and sysctl work: the setting reaches the kernel, the volume is untouched', async () => {
    const volume = hostScratch('volume');
    writeFileSync(join(volume, 'ip_default_ttl'), '64\n');
    const bundle = hostileBundle('cat /proc/sys/net/ipv4/ip_default_ttl; cat /data/ip_default_ttl', {
      hostile: (rootfs) => { try { rmdirSync(join(rootfs, 'data')); } catch { /* absent */ } mkdirSync(join(rootfs, 'data')); },
      mutate: (spec) => { withVolume(spec, volume, '/data', { sysctl: { 'net.ipv4.ip_default_ttl': '77' } }); },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('77\n64\n');
  });
});
