// Images as a normal user: `image import` into ~/.local/share/tsrun (whiteouts as 0/0 character
// devices, opaque directories marked with user.overlay.opaque, no device nodes), and `run --image`,
// whose overlay is mounted in the container's user namespace with `userxattr`; the image's USER
// exists inside through the user's subordinate ids.
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/bundle.js';
import { asUser, cannotRunRootless, createRootlessUser, removeRootlessUser, type RootlessUser } from './user.js';

const skip = cannotRunRootless() ?? (existsSync(join(REPO, 'rootfs-samples/build/busybox-layers/index.json')) ? undefined : 'run make samples');

describe.skipIf(skip !== undefined)(`rootless: images${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let user: RootlessUser;
  let layout: string;
  beforeAll(() => {
    user = createRootlessUser();
    layout = join(user.work, 'layers');
    cpSync(join(REPO, 'rootfs-samples/build/busybox-layers'), layout, { recursive: true });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, layout]);
  });
  afterAll(() => { if (user) removeRootlessUser(user); });

  it('import into the user\'s store, then run: layers, whiteouts and opaque dirs as root sees them; the image\'s USER inside; nothing left', async () => {
    const imp = await asUser(user, ['image', 'import', layout]);
    expect(imp.stderr).toBe('');
    expect(imp.exitCode).toBe(0);
    expect(existsSync(join(user.home, '.local/share/tsrun/layers'))).toBe(true);
    const ls = await asUser(user, ['image', 'ls']);
    expect(ls.stdout).toMatch(/layers:latest/);
    const r = await asUser(user, ['run', '--image', layout, '--', 'id -u; ls /data; test -e /etc/motd && echo motd; echo w > /tmp/w && cat /tmp/w; grep -c userxattr /proc/mounts']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    // The sample's top layer whites out /etc/motd and replaces /data opaquely (rootfs-samples/image.sh).
    expect(r.stdout.trim().split('\n')).toEqual(['1000', 'new', 'w', '1']);
    expect(readdirSync(join(user.runtimeDir, 'tsrun'))).toEqual([]);
    expect(readFileMounts()).not.toMatch(new RegExp(user.runtimeDir));
  });
});

function readFileMounts(): string {
  return execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' });
}
