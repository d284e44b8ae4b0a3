// execInContainer against the fake shim: a running container (its init a real `sleep` the fake
// adopts, its cgroup in a fake cgroupfs), the exec'd process's plan, and every failure — a step, the
// pid file, the console socket, a stopped container — leaving no process, fd or pid file behind.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { execInContainer, type ExecOptions } from '../../../src/container/exec.js';
import { StateStore, type ContainerRecord } from '../../../src/state/store.js';
import { readProcStat } from '../../../src/state/status.js';
import type { Spec } from '../../../src/oci/types.js';
import { makeSandbox, type Sandbox } from '../../helpers/container-sandbox.js';
import type { ChildScript } from '../../helpers/fake-shim.js';

vi.mock('node:fs', async (actual) => (await import('../../helpers/fake-cgroupfs.js')).withCgroupfs(await actual()));

let sb: Sandbox | undefined;
afterEach(() => { sb?.remove(); sb = undefined; });

const ID = 'box';

/** A running container whose init is a stand-in process, in a cgroup of the fake hierarchy. */
async function running(script?: (n: number) => ChildScript, mutate?: (s: Spec) => void): Promise<{ s: Sandbox; record: ContainerRecord }> {
  const s = makeSandbox(script);
  sb = s;
  const spec = s.writeConfig(mutate);
  const init = s.standIn();
  await new Promise((r) => init.once('spawn', r));
  const cgroupDir = join(s.cgroup.root, 'tsrun', ID);
  mkdirSync(cgroupDir, { recursive: true });
  const record: ContainerRecord = {
    ociVersion: '1.2.0', id: ID, pid: init.pid!, pidStartTime: readProcStat(init.pid!)!.startTime, bundle: s.bundle, rootfs: join(s.bundle, 'rootfs'),
    created: new Date().toISOString(), started: true, config: spec, cgroupDir, cgroupOwnedRoot: join(s.cgroup.root, 'tsrun'),
  };
  new StateStore(s.root).createDir(ID, record);
  return { s, record };
}

const exec = (s: Sandbox, more: Partial<ExecOptions> = {}): ReturnType<typeof execInContainer> =>
  execInContainer({ root: s.root, id: ID, args: ['/bin/true'], detach: true, ...more });

/** The exec'd process (the fake's children after the adopted init). */
const execd = (s: Sandbox) => s.shim.children.filter((c) => !c.script.standIn && c.syncFd >= 0);

describe('exec', () => {
  it('joins the init\'s namespaces, is born in its cgroup, and has exec\'d when it returns', async () => {
    const { s, record } = await running();
    const r = await exec(s, { pidFile: join(s.dir, 'exec.pid') });
    const [child] = execd(s);
    expect(r.pid).toBe(child!.pid);
    expect(child!.state).toBe('execd');
    expect(child!.plan.joins.map((j) => j.path).sort()).toEqual(['ipc', 'mnt', 'net', 'pid', 'uts'].map((n) => `/proc/${record.pid}/ns/${n}`).sort());
    expect(child!.plan.steps.at(-1)).toMatchObject({ op: 'exec', strs: ['/bin/true', ...child!.plan.steps.at(-1)!.strs.slice(1)] });
    expect(child!.cgroupFd).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(record.cgroupDir!, 'cgroup.procs'), 'utf8')).toContain(`${child!.pid}\n`);
    expect(readFileSync(join(s.dir, 'exec.pid'), 'utf8')).toBe(String(child!.pid));
    expect(s.shim.openFds()).toEqual([]);
  });

  it('a failing step: the process is gone, no pid file, no fd', async () => {
    const { s } = await running(() => ({ failAt: { step: 1, errno: 'EPERM', syscall: 'setrlimit' } }));
    await expect(exec(s, { pidFile: join(s.dir, 'exec.pid') })).rejects.toThrow(/step 1/);
    expect(execd(s)[0]!.reaped).toBe(true);
    expect(existsSync(join(s.dir, 'exec.pid'))).toBe(false);
    expect(s.leftovers(ID).filter((l) => !l.startsWith('cgroup') && !l.startsWith('state dir'))).toEqual([]);
  });

  it('the pid file cannot be written: the exec\'d process is killed and reaped', async () => {
    const { s } = await running();
    await expect(exec(s, { pidFile: join(s.dir, 'missing', 'exec.pid') })).rejects.toThrow(/pid file/);
    const [child] = execd(s);
    expect(child!.signals).toEqual(['SIGKILL']);
    expect(child!.reaped).toBe(true);
  });

  it('the console socket is not there: the process and its pty master go, and the pid file', async () => {
    const { s } = await running();
    const warnings: string[] = [];
    await expect(exec(s, { tty: true, consoleSocket: join(s.dir, 'no-socket'), pidFile: join(s.dir, 'exec.pid'), warn: (m) => warnings.push(m) })).rejects.toThrow(/no-socket/);
    expect(execd(s)[0]!.reaped).toBe(true);
    expect(existsSync(join(s.dir, 'exec.pid'))).toBe(false);
    expect(s.shim.openFds()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('clone3 refused: the process is placed through the container\'s cgroup.procs', async () => {
    const { s, record } = await running((n) => (n === 0 ? { spawnFails: { what: 'clone3', errno: 'ENOSYS' } } : {}));
    const warnings: string[] = [];
    const r = await exec(s, { warn: (m) => warnings.push(m) });
    expect(execd(s)[0]!.cgroupFd).toBe(-1);
    expect(readFileSync(join(record.cgroupDir!, 'cgroup.procs'), 'utf8')).toContain(`${r.pid}\n`);
    expect(warnings.join()).toMatch(/cgroup\.procs/);
  });

  it('without a mount namespace: the init\'s root is passed as an fd, entered, and closed after', async () => {
    const { s, record } = await running(undefined, (spec) => {
      spec.root!.readonly = false;
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
    });
    const rootFds = (): string[] => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === readlinkSync(`/proc/${record.pid}/root`); } catch { return false; } });
    const before = rootFds();
    await exec(s);
    const plan = execd(s)[0]!.plan;
    expect(plan.passFds).toHaveLength(1);
    expect(plan.steps.slice(0, 3).map((x) => x.op)).toEqual(['chdir', 'chroot', 'chdir']);
    expect(plan.steps[0]!.strs).toEqual([`/proc/self/fd/${plan.passFds[0]}`]);
    expect(rootFds()).toEqual(before);
  });

  it('a stopped container: refused, nothing spawned', async () => {
    const { s, record } = await running();
    process.kill(record.pid, 'SIGKILL');
    await vi.waitFor(() => expect(readProcStat(record.pid)).toBeUndefined());
    await expect(exec(s)).rejects.toThrow(/cannot exec in a stopped container/);
    expect(execd(s)).toEqual([]);
  });
});
