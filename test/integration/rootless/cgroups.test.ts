// cgroups as a normal user. Nothing delegated (this host's v2 tree is root's): `check` says so, a
// container without limits runs without a cgroup of its own, a limit is refused (lifecycle.test.ts).
// Delegated, as systemd's Delegate=yes leaves it (a directory, its cgroup.procs, cgroup.subtree_control
// and cgroup.threads chowned to the user, tsrun started inside it): the container gets a cgroup below
// it with its limits, and delete removes it. This hybrid host's v2 tree has only hugetlb; the VM lane
// is where memory and pids limits would be proven.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectCgroupHost } from '../../../src/cgroups/host.js';
import {
  asUser, cannotRunRootless, createRootlessUser, delegateCgroup, removeRootlessUser, userBundle, type DelegatedCgroup, type RootlessUser,
} from './user.js';

const skip = cannotRunRootless();
const host = (() => { try { return detectCgroupHost(); } catch { return undefined; } })();
const hugetlb = host?.controllers.includes('hugetlb') && host.hugepageSizes?.includes('2MB');

interface CheckItemJson { area: string; name: string; status: string; detail: string; facts?: { delegated?: boolean; root?: string; manager?: string } }
const delegationOf = (stdout: string): CheckItemJson | undefined =>
  (JSON.parse(stdout) as { items: CheckItemJson[] }).items.find((i) => i.area === 'cgroups' && i.name === 'delegation');

describe.skipIf(skip !== undefined || host === undefined)(`rootless: cgroups${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let user: RootlessUser;
  let cgroup: DelegatedCgroup | undefined;
  let delegated: string;
  beforeAll(() => {
    user = createRootlessUser();
    cgroup = delegateCgroup(user, host!.mountPoint);
    delegated = cgroup.root;
  });
  afterAll(() => {
    if (user) removeRootlessUser(user);
    cgroup?.remove();
  });

  it('check: nothing delegated to a user in the host\'s tree; delegated inside the chowned subtree', async () => {
    const none = delegationOf((await asUser(user, ['check', '--format', 'json'])).stdout);
    expect(none?.status).toBe('warn');
    expect(none?.detail).toMatch(/without a cgroup of their own/);
    const inside = delegationOf((await asUser(user, ['check', '--format', 'json'], { cgroup: join(delegated, 'shell') })).stdout);
    expect(inside?.status).toBe('ok');
    expect(inside?.facts?.root).toBe(delegated);
  });

  it('check: whether a user systemd manager (user@UID.service) is there for --systemd-cgroup', async () => {
    const r = await asUser(user, ['check', '--format', 'json']);
    expect(r.exitCode).toBe(0);
    const it = (JSON.parse(r.stdout) as { items: CheckItemJson[] }).items.find((i) => i.area === 'cgroups' && i.name === 'user systemd');
    if (!existsSync('/run/systemd/system')) {
      // This host: no systemd as PID 1, so no user manager (the systemd VM lane shows one that is there).
      expect(it).toMatchObject({ status: 'missing', detail: expect.stringMatching(/^--systemd-cgroup cannot work: systemd is not this host's init \(no \/run\/systemd\/system\), so there is no user@\d+\.service/) });
      expect(it?.facts).toMatchObject({ manager: 'absent' });
    } else {
      // A systemd host, but this throwaway user has no login session: its runtime dir is not the manager's.
      expect(it).toMatchObject({ status: 'missing', detail: expect.stringMatching(/user@\d+\.service is not reachable/) });
    }
    const text = await asUser(user, ['check']);
    expect(text.stdout).toMatch(/^\s+missing\s+user systemd\s+--systemd-cgroup cannot work/m);
  });

  it('explain says where the cgroup would be, as run decides: none of its own, or below the delegated one', async () => {
    const b = await userBundle(user, 'ex', (s) => { s.process!.args = ['true']; });
    const none = await asUser(user, ['explain', b]);
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toMatch(/^cgroup: none of its own \(.*not root.*\)/m);
    const inside = await asUser(user, ['explain', b], { cgroup: join(delegated, 'shell') });
    expect(inside.stdout).toContain(`cgroup ${join(delegated, 'tsrun', '<id>')} `);
  });

  it('without delegation and without limits: the container runs in tsrun\'s cgroup, none is made', async () => {
    const b = await userBundle(user, 'nocg', (s) => { s.process!.args = ['cat', '/proc/self/cgroup']; });
    const r = await asUser(user, ['run', '--bundle', b, 'nocg']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^0::\/$/m);
  });

  it.skipIf(!hugetlb)('delegated: the container\'s cgroup is made below the delegated one, with its limit, and removed at delete', async () => {
    const b = await userBundle(user, 'dcg', (s) => {
      s.process!.args = ['sleep', '300'];
      s.linux!.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] };
    });
    const c = await asUser(user, ['create', '--bundle', b, 'dcg'], { detached: true, cgroup: join(delegated, 'shell') });
    expect(c.stderr).toBe('');
    expect(c.exitCode).toBe(0);
    const dir = join(delegated, 'tsrun', 'dcg');
    const pid = (JSON.parse((await asUser(user, ['state', 'dcg'])).stdout) as { pid: number }).pid;
    expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim().split('\n')).toContain(String(pid));
    expect(readFileSync(join(dir, 'hugetlb.2MB.max'), 'utf8').trim()).toBe('4194304');
    expect((await asUser(user, ['ps', 'dcg'])).stdout).toMatch(new RegExp(`\\b${pid}\\b`));
    const d = await asUser(user, ['delete', '--force', 'dcg']);
    expect(d.stderr).toBe('');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(delegated, 'tsrun'))).toBe(false);
  });
});
