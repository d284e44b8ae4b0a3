// Issue 18 in the systemd lane (vm/run.sh --systemd): `tsrun --systemd-cgroup` as a normal user, as
// rootless podman runs its runtime on a systemd host. The user's own manager (user@UID.service, with
// its runtime dir /run/user/UID) is started for a throwaway user, after the system bus (which the user
// manager needs to have a process outside its tree moved in: AttachProcessesToUnit). The user and its
// bundles are test/integration/rootless/user.ts's; the boot checks test/vm/systemd-support.ts's.
import { chownSync, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROOTFS } from '../helpers/bundle.js';
import { LAUNCHER, asUser, cannotRunRootless, createRootlessUser, removeRootlessUser, userBundle, type RootlessUser } from '../integration/rootless/user.js';
import { V2, run, systemdSkipReason, until } from './systemd-support.js';

const reason = systemdSkipReason() ?? cannotRunRootless() ?? null;
const hasPodman = (() => { try { execFileSync('podman', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; } })();

describe.skipIf(reason !== null)(`--systemd-cgroup as a normal user (user@UID.service)${reason ? ` — skipped: ${reason}` : ''}`, () => {
  let user: RootlessUser;
  let runtime = '';
  let busWasActive = false;
  let etcCopied = false;
  let tmpfilesMasked = false;
  const TMPFILES = 'systemd-tmpfiles-setup.service';
  const ETC_COPY = '/run/tsrun-vm-etc';
  const managerCgroup = (): string => `/user.slice/user-${user.uid}.slice/user@${user.uid}.service`;
  /** tsrun as the user, with its manager's runtime dir. */
  const tsrunAs = (args: string[], opts: { detached?: boolean; env?: Record<string, string> } = {}) =>
    asUser(user, ['--systemd-cgroup', ...args], { detached: opts.detached ?? false, env: { XDG_RUNTIME_DIR: runtime, ...opts.env }, timeoutMs: 120_000 });
  /** `systemctl --user` as the user. */
  const userctl = (...args: string[]) => run('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', 'env', `XDG_RUNTIME_DIR=${runtime}`, 'systemctl', '--user', ...args]);

  beforeAll(async () => {
    // The guest's / is the host's, live, under a tmpfs overlay: a useradd on the host meanwhile (another
    // test run) makes useradd's rename over /etc/passwd here fail with ESTALE. So /etc is a private
    // copy on a tmpfs while this file runs (a bind mount the guest drops in afterAll).
    const copied = run('sh', ['-c', `mkdir -p ${ETC_COPY} && mount -t tmpfs tmpfs ${ETC_COPY} && cp -a /etc/. ${ETC_COPY}/ && mount --bind ${ETC_COPY} /etc`]);
    if (copied.status !== 0) throw new Error(`could not make a private /etc: ${copied.stderr}`);
    etcCopied = true;
    user = createRootlessUser();
    runtime = `/run/user/${user.uid}`;
    // The system bus activates logind, which pulls sysinit.target, whose systemd-tmpfiles-setup would
    // empty the lane's /tmp (the user's dirs, a clone there): masked until afterAll.
    tmpfilesMasked = run('systemctl', ['mask', '--runtime', TMPFILES]).status === 0;
    busWasActive = run('systemctl', ['is-active', 'dbus.service']).stdout.trim() === 'active';
    const bus = run('systemctl', ['start', '--job-mode=ignore-requirements', 'dbus.socket', 'dbus.service']);
    if (bus.status !== 0) throw new Error(`could not start the system bus: ${bus.stderr}`);
    // As `loginctl enable-linger` would: the user's runtime dir and manager, without their requirements
    // (the lane boots only its own target, and nothing else is needed).
    const started = run('systemctl', ['start', '--job-mode=ignore-requirements', `user-runtime-dir@${user.uid}.service`, `user@${user.uid}.service`]);
    if (started.status !== 0) throw new Error(`could not start user@${user.uid}.service: ${started.stderr}${run('journalctl', ['-b', '--no-pager', '-n', '30']).stdout}`);
    await until(`${runtime}/systemd/private`, () => existsSync(join(runtime, 'systemd/private')));
  }, 180_000);

  afterAll(() => {
    if (user) {
      run('systemctl', ['stop', `user@${user.uid}.service`, `user-runtime-dir@${user.uid}.service`]);
      if (!busWasActive) run('systemctl', ['stop', 'dbus.socket', 'dbus.service']);
      removeRootlessUser(user);
    }
    if (etcCopied) run('sh', ['-c', `umount /etc && umount ${ETC_COPY} && rmdir ${ETC_COPY}`]);
    if (tmpfilesMasked) run('systemctl', ['unmask', '--runtime', TMPFILES]);
  });

  it('check: the user\'s manager is there, with its cgroup and the controllers delegated to it; missing with a runtime dir of no manager', async () => {
    interface Item { name: string; status: string; facts?: Record<string, unknown> }
    const line = async (xdg: string): Promise<Item | undefined> =>
      (JSON.parse((await asUser(user, ['check', '--format', 'json'], { env: { XDG_RUNTIME_DIR: xdg } })).stdout) as { items: Item[] }).items.find((i) => i.name === 'user systemd');
    const delegated = readFileSync(join(V2, managerCgroup(), 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    expect(await line(runtime)).toMatchObject({
      status: 'ok', facts: { manager: 'reachable', unit: `user@${user.uid}.service`, address: `${runtime}/systemd/private`, controlGroup: managerCgroup(), controllers: delegated },
    });
    expect(await line(user.runtimeDir)).toMatchObject({ status: 'missing', facts: { manager: 'unreachable' } });
  });

  it('the container is in a scope of the user\'s manager (user.slice), with its memory and pids limits; delete stops the scope', async () => {
    const b = await userBundle(user, 'lim', (s) => {
      s.process!.args = ['sleep', '300'];
      s.linux!.resources = { memory: { limit: 32 * 1024 * 1024 }, pids: { limit: 20 } };
    });
    const c = await tsrunAs(['create', '--bundle', b, 'rs1'], { detached: true });
    expect(c.stderr).toBe('');
    expect(c.exitCode).toBe(0);
    const state = await asUser(user, ['state', 'rs1'], { env: { XDG_RUNTIME_DIR: runtime } });
    const pid = (JSON.parse(state.stdout) as { pid: number }).pid;
    const scope = `${managerCgroup()}/user.slice/tsrun-rs1.scope`;
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))).toBe(`0::${scope}`);
    expect(readFileSync(join(V2, scope, 'memory.max'), 'utf8').trim()).toBe(String(32 * 1024 * 1024));
    expect(readFileSync(join(V2, scope, 'pids.max'), 'utf8').trim()).toBe('20');
    // The user's manager holds the unit, and knows the limits as properties.
    const shown = userctl('show', 'tsrun-rs1.scope', '-p', 'ActiveState', '-p', 'MemoryMax', '-p', 'TasksMax', '-p', 'Delegate');
    expect(shown.stdout).toContain('ActiveState=active');
    expect(shown.stdout).toContain(`MemoryMax=${32 * 1024 * 1024}`);
    expect(shown.stdout).toContain('TasksMax=20');
    expect(shown.stdout).toContain('Delegate=yes');
    expect((await tsrunAs(['start', 'rs1'])).exitCode).toBe(0);
    const del = await tsrunAs(['delete', '--force', 'rs1']);
    expect(del.stderr).toBe('');
    expect(del.exitCode).toBe(0);
    expect(existsSync(join(V2, scope))).toBe(false);
    expect(userctl('list-units', '--all', '--no-legend', 'tsrun-*').stdout.trim()).toBe('');
  });

  it('update: a delegated limit changes in the scope and in the unit; an undelegated one is refused naming its field', async () => {
    const delegated = readFileSync(join(V2, managerCgroup(), 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    expect(delegated).toContain('pids');
    expect(delegated).not.toContain('io');
    const b = await userBundle(user, 'upd', (s) => {
      s.process!.args = ['sleep', '300'];
      s.linux!.resources = { pids: { limit: 20 } };
    });
    expect((await tsrunAs(['run', '-d', '--bundle', b, 'rs5'], { detached: true })).exitCode).toBe(0);
    const scope = join(V2, managerCgroup(), 'user.slice/tsrun-rs5.scope');
    try {
      const raised = await tsrunAs(['update', '--pids-limit', '30', 'rs5']);
      expect(raised.stderr).toBe('');
      expect(raised.exitCode).toBe(0);
      expect(readFileSync(join(scope, 'pids.max'), 'utf8').trim()).toBe('30');
      expect(userctl('show', 'tsrun-rs5.scope', '-p', 'TasksMax').stdout).toContain('TasksMax=30');
      const io = await tsrunAs(['update', '--blkio-weight', '300', 'rs5']);
      expect(io.stderr).toMatch(/linux\.resources\.blockIO\.weight.*"io" controller, which is not delegated to uid \d+'s systemd manager/);
      expect(io.exitCode).not.toBe(0);
      expect(readFileSync(join(scope, 'pids.max'), 'utf8').trim()).toBe('30');
    } finally {
      expect((await tsrunAs(['delete', '--force', 'rs5'])).exitCode).toBe(0);
    }
    expect(existsSync(scope)).toBe(false);
  });

  it('run: an allocation over the scope\'s memory.max is OOM-killed, and the scope is gone after', async () => {
    const oom = await userBundle(user, 'oom', (s) => {
      s.process!.args = ['sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived'];
      s.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } };
    });
    const r = await tsrunAs(['run', '--bundle', oom, 'rs2']);
    expect(r.stdout).not.toMatch(/survived/);
    expect(r.exitCode).toBe(137);
    expect(existsSync(join(V2, managerCgroup(), 'user.slice/tsrun-rs2.scope'))).toBe(false);
    expect(userctl('list-units', '--all', '--no-legend', 'tsrun-*').stdout.trim()).toBe('');
  });

  it('a limit of a controller systemd does not delegate to the user is refused, naming the field', async () => {
    const delegated = readFileSync(join(V2, managerCgroup(), 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
    expect(delegated).not.toContain('io'); // Debian's user@.service: Delegate=pids memory cpu
    const b = await userBundle(user, 'io', (s) => { s.linux!.resources = { blockIO: { weight: 500 } }; });
    const r = await tsrunAs(['run', '--bundle', b, 'rs3']);
    expect(r.stderr).toMatch(/linux\.resources\.blockIO.*"io" controller, which is not delegated to uid \d+'s systemd manager/);
    expect(r.exitCode).not.toBe(0);
    expect(existsSync(join(runtime, 'tsrun', 'rs3'))).toBe(false);
  });

  it('without the user\'s bus (XDG_RUNTIME_DIR of no manager): a clear error, and nothing made', async () => {
    const b = await userBundle(user, 'nobus');
    const r = await tsrunAs(['run', '--bundle', b, 'rs4'], { env: { XDG_RUNTIME_DIR: user.runtimeDir } });
    expect(r.stderr).toMatch(/user@\d+\.service.*its bus cannot be reached.*loginctl enable-linger/);
    expect(r.exitCode).not.toBe(0);
    expect(existsSync(join(user.runtimeDir, 'tsrun', 'rs4'))).toBe(false);
  });
  it.skipIf(!hasPodman)('rootless podman with --cgroup-manager systemd and --runtime tsrun: the limits apply in the user\'s scope', async () => {
    const podman = async (args: string[]) => {
      const r = await execa('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--reset-env',
        'env', `XDG_RUNTIME_DIR=${runtime}`, `DBUS_SESSION_BUS_ADDRESS=unix:path=${runtime}/bus`, `HOME=${user.home}`, `USER=${user.name}`, 'podman', ...args],
      { cwd: user.home, reject: false, timeout: 300_000, input: '' });
      return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 };
    };
    const tar = join(user.work, 'rootfs.tar');
    execFileSync('tar', ['-C', SAMPLE_ROOTFS, '-cf', tar, '.']);
    chownSync(tar, user.uid, user.gid);
    const imported = await podman(['import', '-q', tar, 'localhost/tsrun-rl-busybox']);
    expect(imported.exitCode, imported.stderr).toBe(0);
    try {
      const r = await podman(['--cgroup-manager', 'systemd', '--runtime', LAUNCHER, 'run', '--rm', '--network', 'none', '--memory', '64m', '--pids-limit', '50',
        'localhost/tsrun-rl-busybox', 'sh', '-c', 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max']);
      expect(r.stderr.split('\n').filter((l) => l !== '' && !/is not a shared mount/.test(l))).toEqual([]);
      expect(r.stdout.trim().split('\n')).toEqual([String(64 * 1024 * 1024), '50']);
      expect(r.exitCode).toBe(0);
      expect(userctl('list-units', '--all', '--no-legend', 'libpod-*').stdout.trim()).not.toMatch(/libpod-[0-9a-f]{64}\.scope/);
    } finally {
      await podman(['system', 'reset', '--force']);
    }
  }, 600_000);
});
