// Class: mounts propagating between a container and its caller through linux.rootfsPropagation and
// "rshared" volumes. tsrun does what runc does (prepareRoot): the new namespace's copy of the caller's
// tree gets linux.rootfsPropagation (a recursive slave by default) *before* the config's mounts; the
// mount holding the rootfs is made private if it is shared then; the old root is made a recursive
// slave before it is detached. So, as with runc: by default nothing the container mounts reaches the
// caller; with "shared"/"rshared" root propagation a volume bound "rshared" from a shared mount of the
// caller stays that mount's peer, and a mount made under it in the container shows in the caller
// (what CSI drivers and Kubernetes' Bidirectional propagation need: the config asks for it); a
// mount made elsewhere in the rootfs never does, and the caller's own mounts are never unmounted by
// the container's set-up or its end. The caller here is a private mount namespace the test makes
// (held by a sleep), where the bundle and a volume are shared mounts, as on a host whose / is shared
// (systemd's default); the host's own table is never touched. Side by side with runc.
// (Without a mount namespace linux.rootfsPropagation is refused: lifecycle/caller-mounts.test.ts.)
import { spawn, spawnSync } from 'node:child_process';
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

  const runtimes = spawnSync('runc', ['--version']).status === 0 ? ['tsrun', 'runc'] as const : ['tsrun'] as const;
  const cases = [
    { propagation: undefined, volumeGetsIt: false },
    { propagation: 'shared', volumeGetsIt: true },
    { propagation: 'rshared', volumeGetsIt: true },
    { propagation: 'rslave', volumeGetsIt: false },
  ] as const;
  for (const runtime of runtimes) {
    for (const { propagation, volumeGetsIt } of cases) {
      it(`${runtime}: linux.rootfsPropagation ${propagation ?? '(none)'} and an rshared volume: the caller ${volumeGetsIt ? 'gets the mount made under the volume' : 'gets nothing'}, never one made in the rootfs`, async () => {
        const volume = hostScratch('volume');
        const bundle = hostileBundle('mkdir -p /mnt/x && mount -t tmpfs none /mnt/x && mkdir /v/y && mount -t tmpfs none /v/y && grep -c " - tmpfs none " /proc/self/mountinfo', {
          hostile: (rootfs) => mkdirSync(join(rootfs, 'v')),
          mutate: (spec) => {
            withSysAdmin(spec);
            if (propagation) spec.linux!.rootfsPropagation = propagation;
            spec.mounts = [...spec.mounts!, { destination: '/v', type: 'bind', source: volume, options: ['rbind', 'rshared'] }];
          },
        });
        const ns = await callerNamespace([bundle.dir, volume]);
        const all = (): string[] => readFileSync(`/proc/${ns}/mountinfo`, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[4]!);
        const before = all();
        await waitForBuild();
        const id = `${bundle.marker}-${runtime}`;
        const argv = runtime === 'tsrun' ? ['node', TSRUN, 'run', '--bundle', bundle.dir, id] : ['runc', 'run', '--bundle', bundle.dir, id];
        const r = await execa('nsenter', ['-t', String(ns), '-m', '--', ...argv], { reject: false, cwd: REPO, stdin: 'ignore', stripFinalNewline: false });
        if (runtime === 'runc') await execa('nsenter', ['-t', String(ns), '-m', '--', 'runc', 'delete', '--force', id], { reject: false });
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe('2\n');
        expect(mountsUnder(ns, bundle.rootfs)).toEqual([]);
        expect(mountsUnder(ns, volume)).toEqual(volumeGetsIt ? [volume, join(volume, 'y')] : [volume]);
        // Nothing of the caller's went: not the bundle's or the volume's mount, not / (the old root's detach).
        expect(all().filter((m) => !before.includes(m))).toEqual(volumeGetsIt ? [join(volume, 'y')] : []);
        expect(before.filter((m) => !all().includes(m))).toEqual([]);
      });
    }
  }
});
