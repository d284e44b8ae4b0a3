// The D-Bus client and the manager calls against a fake systemd (test/helpers/fake-systemd.ts) on a
// unix socket: connection order and errors, authentication, jobs awaited through JobRemoved (also
// when the signal comes before the reply), a unit left over being reset and started again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusAddress } from '../../../../src/cgroups/systemd/bus.js';
import { SystemdManager, parseSystemdVersion, systemdAddresses } from '../../../../src/cgroups/systemd/manager-api.js';
import { ScopeHandle, startScope } from '../../../../src/cgroups/systemd/scope.js';
import { Variant } from '../../../../src/cgroups/systemd/wire.js';
import { fakeSystemd, type FakeSystemd } from '../../../helpers/fake-systemd.js';

let fakes: FakeSystemd[] = [];
const managers: SystemdManager[] = [];
afterEach(async () => {
  managers.splice(0).forEach((m) => m.close());
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
const fake = async (opts: Parameters<typeof fakeSystemd>[0] = {}): Promise<FakeSystemd> => {
  const f = await fakeSystemd(opts);
  fakes.push(f);
  return f;
};
const connect = async (...addresses: BusAddress[]): Promise<SystemdManager> => {
  const m = await SystemdManager.connect(addresses);
  managers.push(m);
  return m;
};

describe('reaching systemd', () => {
  it('root tries systemd\'s private socket, then the system bus ($DBUS_SYSTEM_BUS_ADDRESS or the default)', () => {
    expect(systemdAddresses({}, 0)).toEqual([{ path: '/run/systemd/private', bus: false }, { path: '/run/dbus/system_bus_socket', bus: true }]);
    expect(systemdAddresses({ DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/x/bus,guid=1' }, 1000)).toEqual([{ path: '/x/bus', bus: true }]);
    expect(parseSystemdVersion('252.38-1~deb12u1')).toBe(252);
    expect(parseSystemdVersion('"v245.4-1.fc32"')).toBe(245);
    expect(parseSystemdVersion('unknown')).toBe(-1);
  });

  it('uses the first address that answers, and asks for the version as soon as it is in', async () => {
    const f = await fake();
    const m = await connect({ path: '/nonexistent/private', bus: false }, { path: f.path, bus: false });
    expect(await m.version()).toBe(252);
    expect(f.calls).toEqual(['org.freedesktop.DBus.Properties.Get(org.freedesktop.systemd1.Manager)']);
  });

  it('sends no message before the server\'s OK: systemd\'s sd-bus leaves one that came with BEGIN unread', async () => {
    const f = await fake();
    for (let i = 0; i < 5; i++) {
      const m = await connect({ path: f.path, bus: false });
      await expect(Promise.race([m.version(), new Promise((r) => setTimeout(() => r('no answer'), 2000))])).resolves.toBe(252);
    }
  });

  it('on a message bus: Hello first, then a match rule for JobRemoved', async () => {
    const f = await fake();
    const m = await connect({ path: f.path, bus: true });
    await m.version();
    expect(f.calls.slice(0, 2)).toEqual(['org.freedesktop.DBus.Hello()', expect.stringMatching(/^org\.freedesktop\.DBus\.AddMatch\(type='signal',sender='org\.freedesktop\.systemd1',.*member='JobRemoved'\)$/)]);
  });

  it('says why no address worked, naming each', async () => {
    await expect(SystemdManager.connect([{ path: '/nonexistent/private', bus: false }, { path: '/nonexistent/bus', bus: true }]))
      .rejects.toThrow('cannot reach systemd over D-Bus (/nonexistent/private: ENOENT; /nonexistent/bus: ENOENT)');
    const f = await fake({ authReply: 'REJECTED EXTERNAL' });
    await expect(SystemdManager.connect([{ path: f.path, bus: false }])).rejects.toThrow(/authentication \(EXTERNAL, uid \d+\) refused: "REJECTED EXTERNAL"/);
  });
});

describe('units and jobs', () => {
  const props = [['Delegate', new Variant('b', true)], ['PIDs', new Variant('au', [4242])]] as [string, Variant][];

  it('SetUnitProperties changes a live unit\'s properties (tsrun update); an unknown unit is an error naming it', async () => {
    const f = await fake();
    const m = await connect({ path: f.path, bus: false });
    expect(await m.startTransientUnit('tsrun-u.scope', props)).toBe('done');
    await m.setUnitProperties('tsrun-u.scope', [['MemoryMax', new Variant('t', 64n * 1024n * 1024n)], ['TasksMax', new Variant('t', 100n)]]);
    expect(f.calls).toContain('org.freedesktop.systemd1.Manager.SetUnitProperties(tsrun-u.scope)');
    expect([...f.lastProperties.keys()]).toEqual(['MemoryMax', 'TasksMax']);
    expect(f.lastProperties.get('TasksMax')?.value).toBe(100n);
    await expect(m.setUnitProperties('tsrun-none.scope', [])).rejects.toThrow(/tsrun-none\.scope not loaded/);
  });

  it('StartTransientUnit resolves with its job\'s result, whichever of reply and JobRemoved comes first', async () => {
    for (const signalFirst of [false, true]) {
      const f = await fake({ signalFirst });
      const m = await connect({ path: f.path, bus: false });
      expect(await m.startTransientUnit('tsrun-a.scope', props)).toBe('done');
      expect(f.lastProperties.get('PIDs')?.value).toEqual([4242]);
      expect(await m.stopUnit('tsrun-a.scope')).toBe('done');
      expect(await m.stopUnit('tsrun-a.scope')).toBe('no-such-unit');
      await m.resetFailedUnit('tsrun-a.scope'); // not loaded: fine
    }
  });

  it('a unit of that name left over (failed) is reset and the start tried once more, as runc does', async () => {
    const f = await fake({ existing: new Set(['tsrun-b.scope']) });
    const m = await connect({ path: f.path, bus: false });
    await startScope(m, 'tsrun-b.scope', props);
    expect(f.calls.filter((c) => !c.includes('Properties.Get'))).toEqual([
      'org.freedesktop.systemd1.Manager.StartTransientUnit(tsrun-b.scope)',
      'org.freedesktop.systemd1.Manager.ResetFailedUnit(tsrun-b.scope)',
      'org.freedesktop.systemd1.Manager.StartTransientUnit(tsrun-b.scope)',
    ]);
  });

  it('a job that does not end "done" fails the start naming the unit and the result, and the unit is reset', async () => {
    const f = await fake({ jobResult: () => 'failed' });
    const m = await connect({ path: f.path, bus: false });
    await expect(startScope(m, 'tsrun-c.scope', props)).rejects.toThrow('cgroup: systemd could not start the scope tsrun-c.scope: its job ended "failed"');
    expect(f.calls.at(-1)).toBe('org.freedesktop.systemd1.Manager.ResetFailedUnit(tsrun-c.scope)');
  });
});

describe('an OOM kill of a scope whose cgroup systemd has removed', () => {
  // systemd stops an emptied scope and removes its cgroup, at times before the handle's watch on
  // memory.events has read it (a VM run of make test lost that race): the scope's Result says.
  it.each([
    ['oom-kill', true],
    ['success', false],
  ] as const)('is read from the scope\'s Result (%s → %s)', async (result, killed) => {
    const f = await fake({ existing: new Set(['tsrun-c1.scope']), scopeResult: () => result });
    const scope = new ScopeHandle('/nonexistent/tsrun-c1.scope', 'tsrun-c1.scope', () => connect({ path: f.path, bus: false }));
    expect(await scope.oomKilled()).toBe(killed);
    expect(f.calls).toContain('org.freedesktop.systemd1.Manager.GetUnit(tsrun-c1.scope)');
  });

  // systemd may also see the scope empty before it sees the OOM kill (the kernel notifies the two
  // files' watchers in either order): it then forgets a scope that "succeeded", and the kill is only
  // in the parent's memory.events (hierarchical). A rise there since the scope was made, with the
  // container's init SIGKILLed, is the OOM kill (1 in 25 runs in the VM lane came to this).
  it.each([
    [2, true, true],
    [2, false, false],
    [0, true, false],
  ] as const)('is read from the parent\'s memory.events oom_kill when the scope and its unit are gone (parent %s, init SIGKILLed %s → %s)', async (after, initSigkilled, killed) => {
    const f = await fake();
    const slice = mkdtempSync(join(tmpdir(), 'tsrun-oom-slice-'));
    try {
      writeFileSync(join(slice, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 0\noom_kill 0\n');
      const making = { plan: {} as never, opts: {} };
      const scope = new ScopeHandle(join(slice, 'tsrun-c3.scope'), 'tsrun-c3.scope', () => connect({ path: f.path, bus: false }), making);
      writeFileSync(join(slice, 'memory.events'), `low 0\nhigh 0\nmax 9\noom ${after}\noom_kill ${after}\n`);
      expect(await scope.oomKilled(initSigkilled)).toBe(killed);
    } finally {
      rmSync(slice, { recursive: true, force: true });
    }
  });

  it('is no OOM kill when systemd has no such unit loaded', async () => {
    const f = await fake();
    const scope = new ScopeHandle('/nonexistent/tsrun-c2.scope', 'tsrun-c2.scope', () => connect({ path: f.path, bus: false }));
    expect(await scope.oomKilled()).toBe(false);
  });
});
