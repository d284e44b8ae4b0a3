import { describe, expect, it } from 'vitest';
import { findDelegation, ownCgroupPath, planRootlessCgroup } from '../../../src/cgroups/rootless.js';
import type { Spec } from '../../../src/oci/types.js';

const host = { mountPoint: '/sys/fs/cgroup', controllers: ['cpu', 'memory', 'pids'], hybrid: false };
const spec = (resources?: Spec['linux'] extends infer L ? L extends { resources?: infer R } ? R : never : never): Spec =>
  ({ ociVersion: '1.2.0', linux: { ...(resources ? { resources } : {}) } }) as Spec;

describe('rootless cgroups', () => {
  it('own cgroup from /proc/self/cgroup', () => {
    expect(ownCgroupPath('4:memory:/x\n0::/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope\n')).toBe('/user.slice/user-1000.slice/user@1000.service/app.slice/a.scope');
    expect(ownCgroupPath('4:memory:/x\n')).toBeUndefined();
  });
  it('the delegation root is the topmost writable ancestor of tsrun\'s cgroup', () => {
    const writable = new Set(['/sys/fs/cgroup/u/user@1000.service', '/sys/fs/cgroup/u/user@1000.service/app.slice', '/sys/fs/cgroup/u/user@1000.service/app.slice/a.scope']);
    const d = findDelegation({ mountPoint: '/sys/fs/cgroup', ownPath: '/u/user@1000.service/app.slice/a.scope', euid: 1000, writable: (p) => writable.has(p) });
    expect(d).toEqual({ delegated: true, root: '/sys/fs/cgroup/u/user@1000.service' });
    const none = findDelegation({ mountPoint: '/sys/fs/cgroup', ownPath: '/', euid: 1000, writable: () => false });
    expect(none.delegated).toBe(false);
  });
  it('nothing delegated: no cgroup without limits; a limit is refused naming its field and why', () => {
    const none = { delegated: false as const, reason: 'tsrun\'s own cgroup /sys/fs/cgroup is not writable by uid 1000' };
    const warnings: string[] = [];
    expect(planRootlessCgroup(spec(), 'c', host, none, 1000, (m) => warnings.push(m))).toBeUndefined();
    expect(planRootlessCgroup(spec({ devices: [{ allow: false, access: 'rwm' }] }), 'c', host, none, 1000, (m) => warnings.push(m))).toBeUndefined();
    expect(warnings.join()).toMatch(/linux\.resources\.devices ignored/);
    expect(() => planRootlessCgroup(spec({ memory: { limit: 1 << 24 } }), 'c', host, none, 1000, () => {}))
      .toThrow(/linux\.resources\.memory\.limit: tsrun runs as uid 1000, not root, and no cgroup v2 subtree is delegated.*Delegate=yes/);
  });
  it('delegated: the container goes under the root\'s tsrun/, no device program, controllers enabled from the root down', () => {
    const d = { delegated: true as const, root: '/sys/fs/cgroup/u/user@1000.service' };
    const p = planRootlessCgroup(spec({ pids: { limit: 10 }, devices: [{ allow: false, access: 'rwm' }] }), 'c1', host, d, 1000, () => {})!;
    expect(p.dir).toBe('/sys/fs/cgroup/u/user@1000.service/tsrun/c1');
    expect(p.ownedRoot).toBe('/sys/fs/cgroup/u/user@1000.service/tsrun');
    expect(p.delegationRoot).toBe(d.root);
    expect(p.deviceRules).toBeNull();
    expect(p.writes.map((w) => w.file)).toContain('pids.max');
  });
});
