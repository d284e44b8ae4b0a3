// Class: the host's cgroup hierarchy writable from a container (CVE-2023-25809, runc
// GHSA-m8cg-xc2p-r3fc; crun's rootless /sys handling). A container with a user namespace but no
// network namespace may not mount sysfs, so /sys is the host's, bound recursively; the config's "ro"
// made only the top of that bind read-only, and every mount below it — the host's cgroup
// hierarchies at /sys/fs/cgroup among them — stayed writable. A host cgroup delegated to the uid the
// container's root maps to (a rootless user's own slice, in the CVE) could then be changed from
// inside. The attack here targets a throwaway cgroup the test makes and hands to that uid.
// Also: with the sample's config (no cgroup namespace) /sys/fs/cgroup is the host's cgroup2 mount,
// bound read-only.
import { chownSync, existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runBundle } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';
import { hostileBundle } from './audit-support.js';
import { execFileSync } from 'node:child_process';

const skip = cannotRunContainers() ?? (cgroup2Mount() ? undefined : 'no cgroup v2 mount');
const HOST_ID = 100000;

const made: string[] = [];
/** A cgroup of the test's own under the v2 root, its directory and files owned by `uid`. */
function delegatedCgroup(uid: number): string {
  const dir = join(cgroup2Mount()!, `tsrun-sec-cg-${process.pid}-${made.length}`);
  mkdirSync(dir);
  made.push(dir);
  chownSync(dir, uid, uid);
  for (const f of ['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(join(dir, f), uid, uid);
  return dir;
}

function removeCgroups(): void {
  for (const dir of made.splice(0).reverse()) {
    for (const child of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
      if (child.isDirectory()) rmdirSync(join(dir, child.name));
    }
    if (existsSync(dir)) rmdirSync(dir);
  }
}

describe.skipIf(skip !== undefined)(`security: the host's cgroups from a container${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(removeCgroups);

  it('user namespace, no network namespace, no cgroup mount: the host\'s cgroup2 hierarchy under the bound /sys is read-only', async () => {
    const cg = delegatedCgroup(HOST_ID);
    // /sys in the container is the host's, so the host's paths hold inside.
    const bundle = hostileBundle(`mkdir ${cg}/escaped && echo made-a-cgroup; grep -c . ${cg}/cgroup.procs`, {
      hostile: (rootfs) => execFileSync('chown', ['-R', '-h', `${HOST_ID}:${HOST_ID}`, rootfs]),
      mutate: (spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
        spec.linux!.namespaces.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
        spec.mounts = spec.mounts!.filter((m) => m.type !== 'cgroup');
      },
    });
    const r = await runBundle(bundle);
    expect(existsSync(join(cg, 'escaped')), 'the container made a cgroup in the host\'s hierarchy').toBe(false);
    expect(r.stdout).not.toMatch(/made-a-cgroup/);
    expect(r.stderr).toMatch(/Read-only file system/);
  });

  it('the rest of the bound /sys below its top is read-only too (sysfs "ro" means all of it)', async () => {
    const bundle = hostileBundle('grep -E " /sys(/| )" /proc/self/mountinfo | awk \'{ split($6, o, ","); print $5, o[1] }\'', {
      hostile: (rootfs) => execFileSync('chown', ['-R', '-h', `${HOST_ID}:${HOST_ID}`, rootfs]),
      mutate: (spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
        spec.linux!.namespaces.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
        spec.mounts = spec.mounts!.filter((m) => m.type !== 'cgroup');
      },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.filter((l) => !l.endsWith(' ro'))).toEqual([]);
  });

  it('`tsrun spec --rootless`\'s /sys (an explicit rbind of the host\'s /sys, ro): the host\'s cgroup2 hierarchy below it is read-only', async () => {
    const cg = delegatedCgroup(HOST_ID);
    const bundle = hostileBundle(`mkdir ${cg}/escaped && echo made-a-cgroup`, {
      hostile: (rootfs) => execFileSync('chown', ['-R', '-h', `${HOST_ID}:${HOST_ID}`, rootfs]),
      mutate: (spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
        spec.linux!.namespaces.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
        spec.mounts = spec.mounts!.filter((m) => m.type !== 'cgroup' && m.type !== 'sysfs');
        spec.mounts.push({ destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
      },
    });
    const r = await runBundle(bundle);
    expect(existsSync(join(cg, 'escaped'))).toBe(false);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Read-only file system/);
  });

  it('any rbind with ro is read-only all the way down (a tmpfs mounted below the source first)', async () => {
    let inner = '';
    const bundle = hostileBundle('touch /outer/sub/f && echo wrote-below; touch /outer/f && echo wrote-top', {
      hostile: (rootfs) => { inner = join(rootfs, 'inner'); mkdirSync(join(inner, 'sub'), { recursive: true }); mkdirSync(join(rootfs, 'outer')); },
      mutate: (spec) => {
        spec.mounts = [...spec.mounts!,
          { destination: '/inner/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] },
          { destination: '/outer', type: 'bind', source: inner, options: ['rbind', 'ro'] }];
      },
    });
    const r = await runBundle(bundle);
    expect(r.stdout).toBe('');
    expect(r.stderr.match(/Read-only file system/g)).toHaveLength(2);
  });

  it('the sample\'s config (no cgroup namespace): /sys/fs/cgroup is the host\'s hierarchy, read-only', async () => {
    const cg = delegatedCgroup(0);
    const name = cg.slice(cgroup2Mount()!.length);
    const bundle = hostileBundle(`mkdir /sys/fs/cgroup${name}/escaped && echo made-a-cgroup; echo $$ > /sys/fs/cgroup${name}/cgroup.procs && echo moved`, {});
    const r = await runBundle(bundle);
    expect(existsSync(join(cg, 'escaped'))).toBe(false);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Read-only file system/);
  });
});
