// podman as a normal user with tsrun as its runtime. Rootless podman runs the runtime as uid 0 of
// the user's own user namespace (its subordinate ids mapped): tsrun must treat that as a user, not
// as the host's root (state in $XDG_RUNTIME_DIR/tsrun, not /run/tsrun; no cgroup it cannot make;
// device nodes bound in, as mknod is refused there), as runc does.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { SAMPLE_ROOTFS } from '../../helpers/bundle.js';
import { cannotRunRootless, createRootlessUser, LAUNCHER, removeRootlessUser, type RootlessUser } from './user.js';

const hasPodman = (() => { try { execFileSync('podman', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();
const skip = cannotRunRootless() ?? (hasPodman ? undefined : 'no podman (make deps)');

describe.skipIf(skip !== undefined)(`rootless: podman --runtime tsrun as a user${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let user: RootlessUser;
  const podman = async (args: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> => {
    const r = await execa('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--reset-env',
      'env', `XDG_RUNTIME_DIR=${user.runtimeDir}`, `HOME=${user.home}`, `USER=${user.name}`, 'podman', ...args], { cwd: user.home, reject: false, timeout: 60_000, input: '' });
    return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
  };
  beforeAll(async () => {
    user = createRootlessUser();
    const tar = join(user.work, 'rootfs.tar');
    execFileSync('tar', ['-C', SAMPLE_ROOTFS, '-cf', tar, '.']);
    execFileSync('chown', [`${user.uid}:${user.gid}`, tar]);
    const imported = await podman(['import', '-q', tar, 'localhost/tsrun-rl-busybox']);
    if (imported.exitCode !== 0) throw new Error(`podman import: ${imported.stderr}`);
  }, 120_000);
  afterAll(async () => {
    if (!user) return;
    await podman(['system', 'reset', '--force']).catch(() => undefined);
    removeRootlessUser(user);
  }, 120_000);

  it('run --rm: root inside is the user, the subordinate ids are mapped, /dev/null works, nothing stays', async () => {
    const r = await podman(['--runtime', LAUNCHER, 'run', '--rm', '--network', 'none', 'localhost/tsrun-rl-busybox',
      'sh', '-c', 'id -u; cat /proc/self/uid_map; echo x > /dev/null && echo devnull ok']);
    expect(r.stderr.split('\n').filter((l) => l !== '' && !/is not a shared mount/.test(l))).toEqual([]);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('0');
    expect(lines[1]!.trim().split(/\s+/)).toEqual(['0', String(user.uid), '1']);
    expect(r.stdout).toMatch(new RegExp(`^\\s*1\\s+${user.subuid!.start}\\s`, 'm'));
    expect(lines[lines.length - 1]).toBe('devnull ok');
    expect((await podman(['ps', '-a', '-q'])).stdout.trim()).toBe('');
  });
});
