// Class: mounts propagating from a container to its caller through a hostile linux.rootfsPropagation
// or a "shared" volume (runc applies root propagation after pivot_root for this reason). tsrun makes
// its copy of the caller's mount table a recursive slave before anything else, so the caller
// receives nothing from the container whatever the config asks afterwards: "shared" then only means
// shared with the container's own later copies. The caller here is a private mount namespace the
// test makes (held by a sleep), where the bundle and a volume are shared mounts, as on a host whose
// / is shared (systemd's default); the host's own table is never touched. A container with
// CAP_SYS_ADMIN mounts a tmpfs at its root and in the volume; the caller's table stays as it was.
// (Without a mount namespace linux.rootfsPropagation is refused: lifecycle/caller-mounts.test.ts.)
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, poll, REPO, TSRUN, waitForBuild } from '../../helpers/bundle.js';
import { hostileBundle, hostScratch, removeScratch } from './audit-support.js';

const skip = cannotRunContainers();

const holders: number[] = [];
/** A private mount namespace whose `shared` paths are bind-mounted onto themselves and made rshared. */
async function callerNamespace(shared: string[]): Promise<number> {
  const script = `${shared.map((_, i) => `mount --bind "$${i + 1}" "$${i + 1}" && mount --make-rshared "$${i + 1}" && `).join('')}exec sleep 300`;
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...shared], { stdio: 'ignore' });
  const pid = child.pid!;
  holders.push(pid);
  await poll(() => {
    try { return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'sleep\n' ? true : undefined; } catch { return undefined; }
  }, 5_000, `namespace holder ${pid}`);
  return pid;
}

/** Mount points at or below `path` in the mount namespace of `pid`. */
function mountsUnder(pid: number, path: string): string[] {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[4]!)
    .filter((p) => p === path || p.startsWith(`${path}/`));
}

function withSysAdmin(spec: Spec): void {
  const caps = spec.process!.capabilities!;
  for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...caps[set]!, 'CAP_SYS_ADMIN'];
}

describe.skipIf(skip !== undefined)(`security: mount propagation to the caller${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(() => { for (const pid of holders.splice(0)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } });
  afterEach(removeScratch);

  it('the set-up can fail: a plain copy of the caller\'s namespace does pass its mounts back to the caller', async () => {
    const bundle = hostileBundle('true', { hostile: (rootfs) => mkdirSync(join(rootfs, 'mnt/x'), { recursive: true }) });
    const ns = await callerNamespace([bundle.dir]);
    const r = await execa('nsenter', ['-t', String(ns), '-m', '--', 'unshare', '-m', '--propagation', 'unchanged', 'mount', '-t', 'tmpfs', 'none', join(bundle.rootfs, 'mnt/x')], { reject: false });
    expect(r.exitCode).toBe(0);
    expect(mountsUnder(ns, bundle.rootfs)).toEqual([join(bundle.rootfs, 'mnt/x')]);
  });

  for (const propagation of ['shared', 'rshared'] as const) {
    it(`linux.rootfsPropagation "${propagation}" and an rshared volume: mounts the container makes never reach the caller`, async () => {
      const volume = hostScratch('volume');
      const bundle = hostileBundle('mkdir -p /mnt/x && mount -t tmpfs none /mnt/x && mkdir /v/y && mount -t tmpfs none /v/y && grep -c " - tmpfs none " /proc/self/mountinfo', {
        hostile: (rootfs) => mkdirSync(join(rootfs, 'v')),
        mutate: (spec) => {
          withSysAdmin(spec);
          spec.linux!.rootfsPropagation = propagation;
          spec.mounts = [...spec.mounts!, { destination: '/v', type: 'bind', source: volume, options: ['rbind', 'rshared'] }];
        },
      });
      const ns = await callerNamespace([bundle.dir, volume]);
      await waitForBuild();
      const r = await execa('nsenter', ['-t', String(ns), '-m', '--', 'node', TSRUN, 'run', '--bundle', bundle.dir], { reject: false, cwd: REPO, stdin: 'ignore', stripFinalNewline: false });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('2\n');
      expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
      expect(mountsUnder(ns, volume)).toEqual([volume]);
    });
  }
});
