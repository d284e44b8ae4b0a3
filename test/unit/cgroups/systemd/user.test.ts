// --systemd-cgroup as a user (issue 18): which bus reaches the user's own manager, the uid its
// authentication claims, where the scope goes below user@UID.service, which limits are refused, and
// the error when the manager cannot be reached. The VM lane (test/vm/rootless-systemd.test.ts) runs it
// against a real user manager.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostUid, ownHostUid } from '../../../../src/cgroups/systemd/bus.js';
import { connectManager, planUserScopeUpdate } from '../../../../src/cgroups/systemd/index.js';
import { userManagerAddresses, type SystemdManager } from '../../../../src/cgroups/systemd/manager-api.js';
import { planUserScope, userManagerUnreachable } from '../../../../src/cgroups/systemd/user.js';
import type { Spec } from '../../../../src/oci/types.js';
import { ConfigError } from '../../../../src/errors.js';
import { fakeSystemd, type FakeSystemd } from '../../../helpers/fake-systemd.js';

const host = { mountPoint: '/sys/fs/cgroup', controllers: ['cpu', 'cpuset', 'io', 'memory', 'pids'], hybrid: false };
const manager = { uid: 1000, controlGroup: '/user.slice/user-1000.slice/user@1000.service', delegated: ['memory', 'pids'] };
const MANAGER_DIR = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service';
const spec = (linux: Spec['linux'] = {}): Spec => ({ ociVersion: '1.0.2', root: { path: 'rootfs' }, process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } }, linux });

const fakes: FakeSystemd[] = [];
const managers: SystemdManager[] = [];
const dirs: string[] = [];
afterEach(async () => {
  managers.splice(0).forEach((m) => m.close());
  await Promise.all(fakes.splice(0).map((f) => f.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const emptyDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-xdg-'));
  dirs.push(d);
  return d;
};

describe('reaching a user\'s own systemd manager', () => {
  it('tries its private socket in $XDG_RUNTIME_DIR, then the session bus ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus)', () => {
    expect(userManagerAddresses({ XDG_RUNTIME_DIR: '/run/user/1000' })).toEqual([
      { path: '/run/user/1000/systemd/private', bus: false }, { path: '/run/user/1000/bus', bus: true },
    ]);
    expect(userManagerAddresses({ XDG_RUNTIME_DIR: '/run/user/1000', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/tmp/b,guid=42' })).toEqual([
      { path: '/run/user/1000/systemd/private', bus: false }, { path: '/tmp/b', bus: true },
    ]);
    expect(userManagerAddresses({ DBUS_SESSION_BUS_ADDRESS: 'tcp:host=x;unix:abstract=/tmp/dbus-X' })).toEqual([{ path: '\0/tmp/dbus-X', bus: true }]);
    expect(userManagerAddresses({})).toEqual([]);
  });

  it('authenticates as its uid on the host: root of a user namespace maps back through uid_map', () => {
    expect(hostUid(0, '         0          0 4294967295\n')).toBe(0);
    expect(hostUid(1000, '         0          0 4294967295\n')).toBe(1000);
    // rootless podman's namespace: 0 → the user, 1… → its subordinate range.
    expect(hostUid(0, '         0       1000          1\n         1     100000      65536\n')).toBe(1000);
    expect(hostUid(5, '         0       1000          1\n         1     100000      65536\n')).toBe(100004);
  });

  it('connects over the session bus when the private socket is absent, claiming the host uid, and reads the manager\'s cgroup', async () => {
    const f = await fakeSystemd({ controlGroup: '/user.slice/user-1000.slice/user@1000.service' });
    fakes.push(f);
    const m = await connectManager(true, { XDG_RUNTIME_DIR: emptyDir(), DBUS_SESSION_BUS_ADDRESS: `unix:path=${f.path}` });
    managers.push(m);
    expect(await m.controlGroup()).toBe('/user.slice/user-1000.slice/user@1000.service');
    expect(f.authUids).toEqual([ownHostUid()]);
    expect(f.calls[0]).toBe('org.freedesktop.DBus.Hello()');
  });

  it('without a bus: a clear error naming loginctl enable-linger and XDG_RUNTIME_DIR', async () => {
    const xdg = emptyDir();
    const err = await connectManager(true, { XDG_RUNTIME_DIR: xdg }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^--systemd-cgroup: tsrun runs as uid \d+, so the container's scope is made by that user's own systemd manager \(user@\d+\.service\), but its bus cannot be reached/);
    expect((err as Error).message).toContain(`${xdg}/systemd/private: ENOENT`);
    expect((err as Error).message).toContain('loginctl enable-linger');
    expect((err as Error).message).toContain('XDG_RUNTIME_DIR must be its runtime directory');
    const unset = await connectManager(true, {}).catch((e: Error) => e);
    expect((unset as Error).message).toContain('neither XDG_RUNTIME_DIR nor DBUS_SESSION_BUS_ADDRESS is set');
    expect(userManagerUnreachable(1000, 'alice', [])).toContain('`loginctl enable-linger alice`');
  });
});

describe('a user\'s scope', () => {
  it('goes in user.slice of its manager by default, named as root\'s', () => {
    const { plan, unit, slice } = planUserScope(spec({ resources: { memory: { limit: 1 << 25 }, pids: { limit: 20 } } }), 'web', host, manager);
    expect(unit).toBe('tsrun-web.scope');
    expect(slice).toBe('user.slice');
    expect(plan.dir).toBe(`${MANAGER_DIR}/user.slice/tsrun-web.scope`);
    expect(plan.writes.map((w) => `${w.file}=${w.value}`)).toEqual(expect.arrayContaining([`memory.max=${1 << 25}`, 'pids.max=20']));
    // No device program (a user cannot load BPF), and no subtree_control above the scope is tsrun's.
    expect(plan.deviceRules).toBeNull();
    expect(plan.delegationRoot).toBe(plan.dir);
  });

  it('a slice in linux.cgroupsPath is one of the user manager\'s slices', () => {
    const { plan, unit, slice } = planUserScope(spec({ cgroupsPath: 'app-web.slice:pod:c1' }), 'c1', host, manager);
    expect([unit, slice]).toEqual(['pod-c1.scope', 'app-web.slice']);
    expect(plan.dir).toBe(`${MANAGER_DIR}/app.slice/app-web.slice/pod-c1.scope`);
  });

  it('a limit of a controller the manager was not delegated is refused, naming the field', () => {
    let err: unknown;
    try { planUserScope(spec({ resources: { cpu: { quota: 50_000, period: 100_000 } } }), 'c', host, manager); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/linux\.resources\.cpu.*"cpu" controller, which is not delegated to uid 1000's systemd manager .*has memory pids.*Delegate=/);
  });

  it('device rules are ignored with a warning', () => {
    const { plan } = planUserScope(spec({ resources: { devices: [{ allow: false, access: 'rwm' }] } }), 'c', host, manager);
    expect(plan.warnings.join('\n')).toMatch(/linux\.resources\.devices ignored: uid 1000 cannot load a device program/);
  });
});

describe('tsrun update of a user\'s scope', () => {
  const tree = (delegated: string): { mount: string; scope: string } => {
    const mount = emptyDir();
    const managerDir = join(mount, 'user.slice/user-1000.slice/user@1000.service');
    mkdirSync(join(managerDir, 'user.slice/tsrun-u1.scope'), { recursive: true });
    writeFileSync(join(managerDir, 'cgroup.controllers'), `${delegated}\n`);
    return { mount, scope: join(managerDir, 'user.slice/tsrun-u1.scope') };
  };

  it('plans the delegated limits for the scope, below which alone it may enable controllers', () => {
    const { mount, scope } = tree('cpu memory pids');
    const plan = planUserScopeUpdate(spec({ resources: { pids: { limit: 30 } } }), 'u1', { ...host, mountPoint: mount }, scope)!;
    expect(plan.dir).toBe(scope);
    expect(plan.delegationRoot).toBe(scope);
    expect(plan.writes.map((w) => [w.file, w.value])).toContainEqual(['pids.max', '30']);
  });

  it('refuses an undelegated limit naming its field, as create does (not a failed write above the scope)', () => {
    const { mount, scope } = tree('cpu memory pids');
    let err: unknown;
    try { planUserScopeUpdate(spec({ resources: { blockIO: { weight: 300 } } }), 'u1', { ...host, mountPoint: mount }, scope); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).details.field).toBe('linux.resources.blockIO.weight');
    expect((err as ConfigError).message).toMatch(/"io" controller, which is not delegated to uid \d+'s systemd manager/);
  });

  it('leaves a cgroup that is not below a user\'s manager to the usual plan', () => {
    expect(planUserScopeUpdate(spec(), 'u1', host, '/sys/fs/cgroup/system.slice/tsrun-u1.scope')).toBeUndefined();
  });
});
