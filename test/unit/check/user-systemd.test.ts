// `tsrun check`'s line for --systemd-cgroup as a user: the user's own manager, user@UID.service, found
// as the driver finds it (its private socket, then the session bus), against the fake manager.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeUserManager } from '../../../src/check/user-systemd-probe.js';
import { userSystemdItem } from '../../../src/check/user-systemd.js';
import { fakeSystemd, type FakeSystemd } from '../../helpers/fake-systemd.js';

const CG = '/user.slice/user-1000.slice/user@1000.service';

describe('check: the user\'s systemd manager', () => {
  let fake: FakeSystemd | undefined;
  const dirs: string[] = [];
  const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'tsrun-usd-')); dirs.push(d); return d; };
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('root gets no line (its scopes are the system manager\'s)', () => {
    expect(userSystemdItem(0, 0, { kind: 'no-systemd' })).toBeUndefined();
  });

  it('no systemd as init: missing, and the fix is to leave out --systemd-cgroup', async () => {
    expect(await probeUserManager('/sys/fs/cgroup', { XDG_RUNTIME_DIR: '/run/user/1000' }, false)).toEqual({ kind: 'no-systemd' });
    const it = userSystemdItem(1000, 1000, { kind: 'no-systemd' })!;
    expect(it).toMatchObject({ area: 'cgroups', name: 'user systemd', status: 'missing', facts: { manager: 'absent', unit: 'user@1000.service' } });
    expect(it.detail).toMatch(/^--systemd-cgroup cannot work: systemd is not this host's init \(no \/run\/systemd\/system\), so there is no user@1000\.service/);
    expect(it.fix).toMatch(/leave out --systemd-cgroup/);
  });

  it('no bus named by the environment, or none answering there: missing, naming each address and loginctl enable-linger', async () => {
    expect(await probeUserManager(undefined, {}, true)).toEqual({ kind: 'unreachable', reasons: [] });
    const runtime = tmp();
    const probe = await probeUserManager(undefined, { XDG_RUNTIME_DIR: runtime }, true);
    expect(probe).toEqual({ kind: 'unreachable', reasons: [`${runtime}/systemd/private: ENOENT`, `${runtime}/bus: ENOENT`] });
    const it = userSystemdItem(1000, 1000, probe, 'alice')!;
    expect(it).toMatchObject({ status: 'missing', facts: { manager: 'unreachable' } });
    expect(it.detail).toBe(`--systemd-cgroup cannot work: user@1000.service is not reachable (${runtime}/systemd/private: ENOENT; ${runtime}/bus: ENOENT)`);
    expect(it.fix).toMatch(/^the manager runs while alice has a login session, or always after `loginctl enable-linger alice` \(as root\); XDG_RUNTIME_DIR must be its runtime directory \(\/run\/user\/1000\)/);
    expect(userSystemdItem(1000, 1000, { kind: 'unreachable', reasons: [] })!.detail).toMatch(/neither XDG_RUNTIME_DIR nor DBUS_SESSION_BUS_ADDRESS is set/);
  });

  it('a manager that answers: ok, with its cgroup and the controllers delegated to it; warn when none is', async () => {
    fake = await fakeSystemd({ controlGroup: CG });
    const v2 = tmp();
    mkdirSync(join(v2, CG), { recursive: true });
    writeFileSync(join(v2, CG, 'cgroup.controllers'), 'cpu memory pids\n');
    // The session bus (as DBUS_SESSION_BUS_ADDRESS names it) after a runtime dir without the private socket.
    const probe = await probeUserManager(v2, { XDG_RUNTIME_DIR: tmp(), DBUS_SESSION_BUS_ADDRESS: `unix:path=${fake.path}` }, true);
    expect(probe).toEqual({ kind: 'reachable', address: fake.path, version: 252, controlGroup: CG, controllers: ['cpu', 'memory', 'pids'] });
    const it = userSystemdItem(1000, 1000, probe)!;
    expect(it).toMatchObject({ status: 'ok', facts: { manager: 'reachable', controlGroup: CG, controllers: ['cpu', 'memory', 'pids'], systemdVersion: 252 } });
    expect(it.detail).toBe(`user@1000.service (systemd 252) answers on ${fake.path}: --systemd-cgroup puts containers in scopes below ${CG}/user.slice; limits work for cpu, memory, pids (the controllers delegated to it)`);
    const none = userSystemdItem(1000, 1000, { ...(probe as Extract<typeof probe, { kind: 'reachable' }>), controllers: [] })!;
    expect(none).toMatchObject({ status: 'warn', detail: expect.stringMatching(/but no controller is delegated to it/), fix: expect.stringMatching(/Delegate=/) });
  });

  it('a peer that refuses the authentication: missing, with its answer', async () => {
    fake = await fakeSystemd({ authReply: 'REJECTED EXTERNAL' });
    const probe = await probeUserManager(undefined, { DBUS_SESSION_BUS_ADDRESS: `unix:path=${fake.path}` }, true);
    expect(probe.kind).toBe('unreachable');
    expect((probe as { reasons: string[] }).reasons).toHaveLength(1);
    expect((probe as { reasons: string[] }).reasons[0]).toMatch(new RegExp(`^${fake.path}: .*REJECTED`));
  });

  it('a socket that never answers: given up after a few seconds, not waited for', async () => {
    const runtime = tmp();
    mkdirSync(join(runtime, 'systemd'));
    const silent = createServer(() => { /* accepts, never answers */ });
    await new Promise<void>((r) => silent.listen(join(runtime, 'systemd/private'), r));
    try {
      const probe = await probeUserManager(undefined, { XDG_RUNTIME_DIR: runtime }, true);
      expect(probe).toEqual({ kind: 'unreachable', reasons: [`${runtime}/systemd/private: no answer to Get within 3 s`, `${runtime}/bus: ENOENT`] });
    } finally {
      silent.close();
    }
  }, 15_000);
});
