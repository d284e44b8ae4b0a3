// tsrun's systemd cgroup driver (--systemd-cgroup) against a real systemd: the VM lane booted with the
// host's systemd 252 as PID 1 (`make test-vm-systemd`, vm/run.sh --systemd). Each container is a
// transient scope made through systemd's D-Bus API with the container's init in it (Delegate=yes), its
// limits both as unit properties and in the scope's cgroup files; delete stops the scope and nothing
// is left, also after a tsrun killed half-way through create. Elsewhere these are skipped.
import { readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { V2, bundle, processesWith, run, systemdSkipReason, tsrun, tsrunBackground, unitProperties, until } from './systemd-support.js';

const reason = systemdSkipReason();

describe.skipIf(reason !== null)(`tsrun --systemd-cgroup with systemd as PID 1${reason ? ` — skipped: ${reason}` : ''}`, () => {
  const dir = reason ? '' : mkdtempSync(join(tmpdir(), 'tsrun-vm-systemd-'));
  const root = join(dir, 'state');
  afterAll(() => {
    if (!dir) return;
    for (const id of tsrun(root, ['list', '-q']).stdout.split('\n').filter(Boolean)) tsrun(root, ['delete', '-f', id]);
    rmSync(dir, { recursive: true, force: true });
  });
  const sh = (script: string): string[] => ['sh', '-c', script];
  const scopeDir = (unit: string, slicePath = '/system.slice'): string => join(V2, slicePath, unit);
  /** Nothing of container `id` is left: unit, cgroup, state, processes. */
  const expectNothingLeft = (id: string, unit: string, marker: string, slicePath = '/system.slice'): void => {
    expect(unitProperties(unit, 'LoadState').LoadState, `${unit} still loaded`).toBe('not-found');
    expect(existsSync(scopeDir(unit, slicePath)), `${scopeDir(unit, slicePath)} left`).toBe(false);
    expect(existsSync(join(root, id)), `state of ${id} left`).toBe(false);
    expect(processesWith(marker), `processes of ${id} left`).toEqual([]);
  };

  it('run -d: a scope made with the init (Delegate=yes, in system.slice), limits as properties and in its files; delete stops it', async () => {
    const marker = 'tsrun-vm-sd-detached';
    const b = bundle(dir, 'detached', sh(`tail -1 /proc/self/cgroup; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max; exec sleep 1000 # ${marker}`), (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      c.linux.resources = { ...c.linux.resources, memory: { limit: 32 << 20 }, pids: { limit: 9 }, cpu: { quota: 15000, period: 100000 } };
    });
    const out = join(dir, 'detached.out');
    writeFileSync(out, '');
    expect(tsrun(root, ['--systemd-cgroup', 'run', '-d', '--bundle', b, 'sd-detached'], { out }).status).toBe(0);
    const unit = 'tsrun-sd-detached.scope';
    // Seen from inside: its scope is the root of its cgroup namespace, with the limits.
    await until('the container\'s output', () => readFileSync(out, 'utf8').split('\n').length >= 5);
    expect(readFileSync(out, 'utf8')).toBe(`0::/\n${32 << 20}\n9\n15000 100000\n`);
    // Seen by systemd: the unit tsrun asked for.
    expect(unitProperties(unit, 'ActiveState', 'Slice', 'Delegate', 'DefaultDependencies', 'Description', 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec')).toEqual({
      ActiveState: 'active', Slice: 'system.slice', Delegate: 'yes', DefaultDependencies: 'no', Description: 'tsrun container sd-detached',
      MemoryMax: String(32 << 20), TasksMax: '9', CPUQuotaPerSecUSec: '150ms', CPUQuotaPeriodUSec: '100ms',
    });
    // Seen from the host: the init is in the scope's cgroup, whose files have the limits.
    const state = JSON.parse(tsrun(root, ['state', 'sd-detached']).stdout) as { pid: number };
    const cg = scopeDir(unit);
    expect(readFileSync(`/proc/${state.pid}/cgroup`, 'utf8')).toBe(`0::/system.slice/${unit}\n`);
    expect(readFileSync(join(cg, 'cgroup.procs'), 'utf8')).toBe(`${state.pid}\n`);
    expect(['memory.max', 'pids.max', 'cpu.max'].map((f) => readFileSync(join(cg, f), 'utf8').trim())).toEqual([String(32 << 20), '9', '15000 100000']);
    const record = JSON.parse(readFileSync(join(root, 'sd-detached', 'state.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ cgroupDir: cg, cgroupSystemdUnit: unit });
    // exec joins the cgroup namespace and the scope (cgroup2 is mounted nsdelegate here, as systemd does).
    const exec = tsrun(root, ['exec', 'sd-detached', 'tail', '-1', '/proc/self/cgroup']);
    expect(exec.stderr).toBe('');
    expect(exec.stdout).toBe('0::/\n');
    // Commands that only use the cgroup need no flag: pause freezes the scope's cgroup.
    expect(tsrun(root, ['pause', 'sd-detached']).status).toBe(0);
    expect(readFileSync(join(cg, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
    expect(tsrun(root, ['resume', 'sd-detached']).status).toBe(0);
    // delete without --systemd-cgroup (podman's cleanup does not pass it): the record says systemd.
    const del = tsrun(root, ['--debug', 'delete', '-f', 'sd-detached']);
    // With the startup snapshot (not under every CPU model), delete goes to the full bundle for it.
    if (/launcher: .*tsrun\.blob/.test(del.stderr)) expect(del.stderr).toMatch(/not in the startup snapshot, running dist\/snapshot\/full\.cjs/);
    expect(del.status).toBe(0);
    expectNothingLeft('sd-detached', unit, marker);
  });

  it('a createContainer hook runs in the container\'s cgroup namespace and its scope', () => {
    const marker = 'tsrun-vm-sd-hook';
    const seen = join(dir, 'hook-cgroup');
    const b = bundle(dir, 'hook', sh(`true # ${marker}`), (c) => {
      c.linux.namespaces.push({ type: 'cgroup' });
      // Before pivot_root: the host's files are still what it sees.
      c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `tail -1 /proc/self/cgroup > ${seen}`] }] };
    });
    const r = tsrun(root, ['--systemd-cgroup', 'run', '--bundle', b, 'sd-hook']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(seen, 'utf8')).toBe('0::/\n');
    expectNothingLeft('sd-hook', 'tsrun-sd-hook.scope', marker);
  });

  it('a nested slice from linux.cgroupsPath, a foreground run: its exit status; the scope is gone at the end', () => {
    const marker = 'tsrun-vm-sd-nested';
    const b = bundle(dir, 'nested', sh(`tail -1 /proc/self/cgroup; exit 3 # ${marker}`), (c) => { c.linux.cgroupsPath = 'tsrunvm-nested.slice:pfx:sd-nested'; });
    const r = tsrun(root, ['--systemd-cgroup', 'run', '--bundle', b, 'sd-nested']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0::/tsrunvm.slice/tsrunvm-nested.slice/pfx-sd-nested.scope\n');
    expect(r.status).toBe(3);
    expectNothingLeft('sd-nested', 'pfx-sd-nested.scope', marker, '/tsrunvm.slice/tsrunvm-nested.slice');
  });

  it('an OOM kill fails the scope; the run exits 137 and says so, and systemd forgets the failed unit (ResetFailedUnit)', () => {
    const marker = 'tsrun-vm-sd-oom';
    const b = bundle(dir, 'oom', sh(`x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo survived # ${marker}`), (c) => {
      c.linux.resources = { ...c.linux.resources, memory: { limit: 16 << 20, swap: 16 << 20 } };
    });
    const r = tsrun(root, ['--systemd-cgroup', 'run', '--bundle', b, 'sd-oom']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/killed by the OOM killer/);
    expect(r.status).toBe(137);
    expectNothingLeft('sd-oom', 'tsrun-sd-oom.scope', marker);
  });

  it('create, start, kill, delete as podman and containerd call them (delete without the flag), and the scope goes', async () => {
    const marker = 'tsrun-vm-sd-lifecycle';
    const b = bundle(dir, 'lifecycle', sh(`exec sleep 1000 # ${marker}`));
    // create's stdio stays with the container: a file, not pipes (spawnSync would wait for them).
    expect(tsrun(root, ['--systemd-cgroup', 'create', '--bundle', b, 'sd-life'], { out: join(dir, 'lifecycle.out') }).status).toBe(0);
    expect(unitProperties('tsrun-sd-life.scope', 'ActiveState').ActiveState).toBe('active');
    expect(tsrun(root, ['--systemd-cgroup', 'start', 'sd-life']).status).toBe(0);
    expect(tsrun(root, ['--systemd-cgroup', 'kill', 'sd-life', 'KILL']).status).toBe(0);
    await until('the container to stop', () => JSON.parse(tsrun(root, ['state', 'sd-life']).stdout).status === 'stopped');
    expect(tsrun(root, ['delete', 'sd-life']).status).toBe(0);
    expectNothingLeft('sd-life', 'tsrun-sd-life.scope', marker);
  });

  it('kill -9 of tsrun while a create hook runs (the init is in its scope): delete --force removes everything', async () => {
    const marker = 'tsrun-vm-sd-killed-hook';
    const flag = join(dir, 'hook-ran');
    const b = bundle(dir, 'killed-hook', sh(`exec sleep 1000 # ${marker}`), (c) => {
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${flag}; sleep 4 # ${marker}-hook`] }] };
    });
    const creating = tsrunBackground(root, ['--systemd-cgroup', 'create', '--bundle', b, 'sd-killed']);
    await until('the createRuntime hook', () => existsSync(flag), 120_000);
    expect(unitProperties('tsrun-sd-killed.scope', 'ActiveState').ActiveState).toBe('active');
    creating.kill('SIGKILL');
    await new Promise((r) => creating.once('exit', r));
    const del = tsrun(root, ['delete', '--force', 'sd-killed']);
    expect(del.stderr).toBe('');
    expect(del.status).toBe(0);
    await until('the orphaned hook to end', () => processesWith(`${marker}-hook`).length === 0, 30_000);
    expectNothingLeft('sd-killed', 'tsrun-sd-killed.scope', marker);
  });

  it('kill -9 of tsrun at any moment of a create: what is left, delete --force removes', async () => {
    // Under TCG a create takes seconds: these delays land before, during and after systemd's job.
    for (const [i, delayMs] of [300, 1500, 3000, 5000, 8000].entries()) {
      const id = `sd-kill-${i}`;
      const marker = `tsrun-vm-sd-kill-${i}`;
      const b = bundle(dir, id, sh(`exec sleep 1000 # ${marker}`), (c) => { c.linux.resources = { ...c.linux.resources, pids: { limit: 20 } }; });
      const creating = tsrunBackground(root, ['--systemd-cgroup', 'create', '--bundle', b, id]);
      await new Promise((r) => setTimeout(r, delayMs));
      creating.kill('SIGKILL');
      await new Promise((r) => (creating.exitCode !== null || creating.signalCode !== null ? r(null) : creating.once('exit', r)));
      const del = tsrun(root, ['delete', '--force', id]);
      expect(del.status, `${id} after ${delayMs} ms: ${del.stderr}`).toBe(0);
      expectNothingLeft(id, `tsrun-${id}.scope`, marker);
    }
  });

  it('through the system bus too (dbus-daemon), when systemd\'s private socket cannot be reached', () => {
    const started = run('systemctl', ['start', '--job-mode=ignore-requirements', 'dbus.socket', 'dbus.service']);
    if (started.status !== 0) throw new Error(`could not start the system bus: ${started.stderr}`);
    const marker = 'tsrun-vm-sd-bus';
    const b = bundle(dir, 'bus', sh(`tail -1 /proc/self/cgroup # ${marker}`));
    // A mount namespace of its own where /run/systemd/private is /dev/null: connect() is refused there.
    const r = run('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount --bind /dev/null /run/systemd/private && exec "$0" "$@"`, join(process.cwd(), 'bin/tsrun'), '--root', root, '--systemd-cgroup', 'run', '--bundle', b, 'sd-bus']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0::/system.slice/tsrun-sd-bus.scope\n');
    expect(r.status).toBe(0);
    expectNothingLeft('sd-bus', 'tsrun-sd-bus.scope', marker);
  });
});
