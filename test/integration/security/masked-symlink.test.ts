// Class: masked paths defeated through symlinks (CVE-2025-31133, runc GHSA-9493-h29p-rfm2; maskedPaths
// on entries that are symlinks). A masked file is hidden by binding /dev/null over it. When the
// config does not mount a tmpfs on /dev, /dev is the image's, and the image can make /dev/null a
// symlink: binding "/dev/null" then binds whatever it points to, e.g. /proc/timer_list over itself,
// and the mask hides nothing (runc could even be made to bind a writable procfs file). tsrun checks
// that /dev/null is the null device (character 1:3, not a symlink) before masking with it.
// The second part: a masked path that is itself a symlink, through /proc/PID/root (a host process
// seen by a container without a PID namespace) to a directory of the host. Masks are mounted in the
// container's mount namespace, where the kernel refuses a mount on the host's mounts (EINVAL): the
// create fails, naming the masked path, and the host's directory stays as it was.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, mountPoints, runBundle } from '../../helpers/bundle.js';
import { entries, hostileBundle, hostScratch, removeScratch } from './audit-support.js';

const skip = cannotRunContainers();

/** Without the config's /dev tmpfs the image's own /dev is used (as with runc's /dev bind mounts). */
function imageDev(spec: Spec): void {
  spec.mounts = spec.mounts!.filter((m) => m.destination !== '/dev');
}

describe.skipIf(skip !== undefined)(`security: masked paths and symlinks${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeScratch);

  it('an image whose /dev/null is a symlink to /proc/timer_list cannot unmask /proc/timer_list: tsrun refuses to mask with it', async () => {
    const bundle = hostileBundle('wc -c < /proc/timer_list', {
      hostile: (rootfs) => {
        mkdirSync(join(rootfs, 'dev'), { recursive: true });
        symlinkSync('/proc/timer_list', join(rootfs, 'dev/null'));
      },
      mutate: (spec) => { imageDev(spec); spec.linux!.maskedPaths = ['/proc/timer_list']; },
    });
    const r = await runBundle(bundle);
    // Vulnerable: "NNNN" bytes of the host's timer list, read through the "masked" path.
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: mask \/proc\/timer_list \(step \d+, linux\.maskedPaths\[0\]\): .*\/dev\/null/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an image whose /dev/null is a regular file is refused the same way', async () => {
    const bundle = hostileBundle('wc -c < /proc/timer_list', {
      hostile: (rootfs) => {
        mkdirSync(join(rootfs, 'dev'), { recursive: true });
        writeFileSync(join(rootfs, 'dev/null'), 'not the null device\n');
      },
      mutate: (spec) => { imageDev(spec); spec.linux!.maskedPaths = ['/proc/timer_list']; },
    });
    const r = await runBundle(bundle);
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.maskedPaths\[0\]\): .*\/dev\/null/);
  });

  it('the image\'s /dev with a real null device: the mask holds (reads 0 bytes)', async () => {
    const bundle = hostileBundle('wc -c < /proc/timer_list', {
      hostile: (rootfs) => { rmSync(join(rootfs, 'dev/null'), { force: true }); },
      mutate: (spec) => { imageDev(spec); spec.linux!.maskedPaths = ['/proc/timer_list']; },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0\n');
  });

  it('a masked path that leads through /proc/PID/root to a host directory (no PID namespace) fails create and leaves the host\'s directory alone', async () => {
    const host = hostScratch('masked');
    writeFileSync(join(host, 'file'), 'host data\n');
    const before = mountPoints();
    const bundle = hostileBundle('ls /sys/firmware/ | wc -l', {
      // Without a sysfs mount /sys is the image's: its firmware entry points at the host's directory.
      hostile: (rootfs) => {
        mkdirSync(join(rootfs, 'sys'), { recursive: true });
        symlinkSync(`/proc/${process.pid}/root${host}`, join(rootfs, 'sys/firmware'));
      },
      mutate: (spec) => {
        spec.mounts = spec.mounts!.filter((m) => m.type !== 'sysfs' && m.type !== 'cgroup');
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
        spec.linux!.maskedPaths = ['/sys/firmware'];
      },
    });
    const r = await runBundle(bundle);
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: mask \/sys\/firmware \(step \d+, linux\.maskedPaths\[0\]\): EINVAL .* from mount/);
    expect(entries(host)).toEqual(['file']);
    expect(mountPoints()).toEqual(before);
  });
});
