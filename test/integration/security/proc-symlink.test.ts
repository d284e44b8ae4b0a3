// Class: procfs mounted somewhere else than /proc through symlinks in the image (CVE-2019-16884,
// CVE-2023-27561, CVE-2023-28642; runc GHSA-fgv8-vj5c-2ppq, GHSA-vpvm-3wq2-2wvm, GHSA-g2j6-57v7-gm8c).
// The attack: the image makes /proc a symlink, /proc -> /dev/a, and /dev/a -> /x. The proc mount
// follows the chain (inside the rootfs) and lands on /x; then the config's /dev tmpfs hides
// /dev/a, so /proc no longer resolves and every masked and read-only path under /proc is skipped as
// missing: the container gets an unmasked procfs with a writable /proc/sys at /x (root in the
// container could then write kernel.core_pattern, a host-wide sysctl: a way out). The same for sysfs.
// tsrun refuses a proc or sysfs mount whose destination goes through a symlink, as runc does.
import { mkdirSync, rmdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { hostileBundle } from './audit-support.js';

const skip = cannotRunContainers();

/** The image's /proc (or /sys) becomes `link`; `then` adds the rest of the chain. */
function replaceWithSymlink(rootfs: string, dir: string, link: string, then: () => void = () => {}): void {
  rmdirSync(join(rootfs, dir));
  symlinkSync(link, join(rootfs, dir));
  then();
}

// Run as the attacker would: look for procfs anywhere, read an entry that must be masked, write a
// sysctl of the container's own network namespace (harmless here) to see whether /proc/sys is writable.
const PROBE = 'grep " - proc " /x/self/mountinfo | head -1; wc -c < /x/timer_list; echo 99 > /x/sys/net/ipv4/ip_default_ttl && echo sys-writable';

describe.skipIf(skip !== undefined)(`security: /proc and /sys through symlinks in the image${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('/proc -> /dev/a -> /x (hidden later by the /dev tmpfs): refused, naming the proc mount; no unmasked procfs reaches the container', async () => {
    const bundle = hostileBundle(PROBE, {
      hostile: (rootfs) => replaceWithSymlink(rootfs, 'proc', '/dev/a', () => {
        mkdirSync(join(rootfs, 'x'));
        symlinkSync('/x', join(rootfs, 'dev/a'));
      }),
    });
    const r = await runBundle(bundle);
    expect(r.stdout, 'the container ran with procfs at /x').toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/^tsrun: mount proc on \/proc \(step \d+, mounts\[0\]\): .*symbolic link/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('/proc -> /x (a plain symlink): refused as well', async () => {
    const bundle = hostileBundle(PROBE, {
      hostile: (rootfs) => replaceWithSymlink(rootfs, 'proc', 'x', () => mkdirSync(join(rootfs, 'x'))),
    });
    const r = await runBundle(bundle);
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/mounts\[0\]\): .*symbolic link/);
  });

  it('/sys -> /y: the sysfs mount is refused, naming it', async () => {
    const bundle = hostileBundle('ls /y/firmware | wc -l', {
      hostile: (rootfs) => replaceWithSymlink(rootfs, 'sys', 'y', () => mkdirSync(join(rootfs, 'y'))),
    });
    const sysfs = bundle.spec.mounts!.findIndex((m) => m.type === 'sysfs');
    const r = await runBundle(bundle);
    expect(r.stdout).toBe('');
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`mounts\\[${sysfs}\\]\\): .*symbolic link`));
  });

  it('the same probe in an ordinary image: /proc is the only procfs, masked and read-only where the config says', async () => {
    const bundle = hostileBundle(PROBE.replaceAll('/x/', '/proc/'));
    const r = await runBundle(bundle);
    expect(r.stdout).toMatch(/^\d+ \d+ \d+:\d+ \/ \/proc .* - proc proc /);
    expect(r.stdout.split('\n')[1]).toBe('0');
    expect(r.stdout).not.toMatch(/sys-writable/);
    expect(r.stderr).toMatch(/Read-only file system/);
  });
});
