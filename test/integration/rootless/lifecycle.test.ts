// The container lifecycle as a normal user (no root, no capabilities, a throwaway useradd user run
// through setpriv): `spec --rootless` bundles with run, create/start, exec, kill, delete, list, ps;
// subordinate ids through newuidmap; cleanup after tsrun is killed; the errors a user can hit.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUser, cannotRunRootless, createRootlessUser, removeRootlessUser, userBundle, userProcesses, type RootlessUser } from './user.js';

const skip = cannotRunRootless();

describe.skipIf(skip !== undefined)(`rootless: lifecycle as a normal user${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let user: RootlessUser;
  beforeAll(() => { user = createRootlessUser(); });
  afterAll(() => { if (user) removeRootlessUser(user); });
  const stateRoot = (): string => join(user.runtimeDir, 'tsrun');
  const oneLine = (stderr: string): void => {
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  };

  it('run: root inside is the user outside, the exit code comes back, nothing is left', async () => {
    const b = await userBundle(user, 'run1', (s) => { s.process!.args = ['sh', '-c', 'id -u; cat /proc/self/uid_map; exit 3']; });
    const r = await asUser(user, ['run', '--bundle', b, 'run1']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(3);
    const [id, map] = r.stdout.trim().split('\n');
    expect(id).toBe('0');
    expect(map!.trim().split(/\s+/)).toEqual(['0', String(user.uid), '1']);
    expect(existsSync(join(stateRoot(), 'run1'))).toBe(false);
    const st = statSync(stateRoot());
    expect(st.uid).toBe(user.uid);
    expect(st.mode & 0o777).toBe(0o700);
  });

  it('create, state, list, ps, start, exec, kill, delete; the waiting process is not dumpable', async () => {
    const b = await userBundle(user, 'life', (s) => { s.process!.args = ['sleep', '600']; });
    const c = await asUser(user, ['create', '--bundle', b, 'life'], { detached: true });
    expect(c.stderr).toBe('');
    expect(c.exitCode).toBe(0);
    const state = JSON.parse((await asUser(user, ['state', 'life'])).stdout) as { status: string; pid: number };
    expect(state.status).toBe('created');
    // Waiting for start, its /proc files are root's: nothing of the user (nor of the container) may
    // open its exe or memory until it execs (issue 12); it was dumpable only until its maps were written.
    expect(statSync(`/proc/${state.pid}/environ`).uid).toBe(0);
    expect((await asUser(user, ['list'])).stdout).toMatch(/life\s+\d+\s+created/);
    expect((await asUser(user, ['start', 'life'], { detached: true })).exitCode).toBe(0);
    const ps = await asUser(user, ['ps', 'life']);
    expect(ps.stderr).toBe('');
    expect(ps.stdout).toMatch(new RegExp(`\\b${state.pid}\\b.*sleep 600`));
    const e = await asUser(user, ['exec', 'life', 'sh', '-c', 'id -u; cat /proc/self/uid_map; echo $$']);
    expect(e.stderr).toBe('');
    expect(e.exitCode).toBe(0);
    const [eid, emap] = e.stdout.trim().split('\n');
    expect(eid).toBe('0');
    expect(emap!.trim().split(/\s+/)).toEqual(['0', String(user.uid), '1']);
    expect((await asUser(user, ['kill', 'life', 'KILL'])).exitCode).toBe(0);
    for (let i = 0; i < 50 && existsSync(`/proc/${state.pid}`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(JSON.parse((await asUser(user, ['state', 'life'])).stdout).status).toBe('stopped');
    const d = await asUser(user, ['delete', 'life']);
    expect(d.stderr).toBe('');
    expect(existsSync(join(stateRoot(), 'life'))).toBe(false);
    expect(userProcesses(user).filter((l) => /sleep 600/.test(l))).toEqual([]);
  });

  it('tsrun killed with SIGKILL during a run: delete removes the container and its process', async () => {
    const b = await userBundle(user, 'k9', (s) => { s.process!.args = ['sleep', '601']; });
    const run = asUser(user, ['run', '--bundle', b, 'k9'], { timeoutMs: 15_000 });
    let pid = 0;
    for (let i = 0; i < 100 && pid === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try { pid = (JSON.parse(readFileSync(join(stateRoot(), 'k9/state.json'), 'utf8')) as { pid: number }).pid; } catch { /* not yet */ }
      if (pid && !userProcesses(user).some((l) => /sleep 601/.test(l))) pid = 0;
    }
    expect(pid).toBeGreaterThan(0);
    const tsrun = userProcesses(user).find((l) => / run --bundle .* k9$/.test(l));
    expect(tsrun).toBeDefined();
    execFileSync('kill', ['-9', tsrun!.split(' ')[0]!]);
    await run;
    const d = await asUser(user, ['delete', '--force', 'k9']);
    expect(d.stderr).toBe('');
    expect(d.exitCode).toBe(0);
    expect(existsSync(join(stateRoot(), 'k9'))).toBe(false);
    for (let i = 0; i < 50 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 50));
    expect(userProcesses(user).filter((l) => /sleep 601/.test(l))).toEqual([]);
  });

  it('subordinate ids through newuidmap: files of many owners inside, shifted into the range outside', async () => {
    const sub = user.subuid!;
    const subg = user.subgid!;
    const b = await userBundle(user, 'sub', (s) => {
      s.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: sub.start, size: sub.count }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: subg.start, size: subg.count }];
      s.root!.readonly = false;
      for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_CHOWN');
      s.process!.args = ['sh', '-c', 'cat /proc/self/uid_map; touch /f1000; chown 1000:1000 /f1000; ls -ln /f1000; su=$(cat /proc/self/setgroups); echo setgroups=$su'];
    });
    const r = await asUser(user, ['run', '--bundle', b, 'sub']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\s*1\\s+${sub.start}\\s+${sub.count}$`, 'm'));
    expect(r.stdout).toMatch(/\s1000\s+1000\s.*\/f1000/);
    expect(r.stdout).toMatch(/setgroups=allow/);
    const st = statSync(join(b, 'rootfs/f1000'));
    expect(st.uid).toBe(sub.start + 999);
    expect(st.gid).toBe(subg.start + 999);
  });

  it('ids outside the user\'s ranges: one line naming the mapping, /etc/subuid and the fix; nothing left', async () => {
    const b = await userBundle(user, 'badsub', (s) => {
      s.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: 10, size: 100 }];
      s.process!.args = ['true'];
    });
    const r = await asUser(user, ['run', '--bundle', b, 'badsub']);
    expect(r.exitCode).not.toBe(0);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/linux\.uidMappings\[1\]/);
    expect(r.stderr).toMatch(/\/etc\/subuid/);
    expect(r.stderr).toMatch(/usermod --add-subuids/);
    expect(existsSync(join(stateRoot(), 'badsub'))).toBe(false);
  });

  it('a root config (no user namespace) as a user: the error names linux.namespaces and spec --rootless; nothing left', async () => {
    const b = await userBundle(user, 'rootcfg', (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'user');
      delete s.linux!.uidMappings;
      delete s.linux!.gidMappings;
      s.process!.args = ['true'];
    });
    const r = await asUser(user, ['run', '--bundle', b, 'rootcfg']);
    expect(r.exitCode).not.toBe(0);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/linux\.namespaces: tsrun runs as uid \d+, not root: new pid, ipc, uts, mount namespaces need a user namespace.*spec --rootless/);
    expect(existsSync(join(stateRoot(), 'rootcfg'))).toBe(false);
  });

  it('a limit without a delegated cgroup: refused naming the field and why; no limit runs without a cgroup', async () => {
    const b = await userBundle(user, 'lim', (s) => {
      s.linux!.resources = { pids: { limit: 50 } };
      s.process!.args = ['true'];
    });
    const r = await asUser(user, ['run', '--bundle', b, 'lim']);
    expect(r.exitCode).not.toBe(0);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(/linux\.resources\.pids\.limit/);
    expect(r.stderr).toMatch(/not root.*delegated/);
    expect(existsSync(join(stateRoot(), 'lim'))).toBe(false);
  });
});
