// createContainer against the fake shim, a temp state root and a cgroup hierarchy in a temp dir: what
// a create makes, and that a create failing anywhere — refused config, cgroup, tsrun_spawn, any step
// of the plan, a child that dies, a hook, the pid file, the console socket — leaves nothing: no
// state dir, no cgroup, no process, no fd.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configureSpawn, spawnSettings } from '../../../src/native/spawn-settings.js';
import { createContainer, type CreateOptions } from '../../../src/container/create.js';
import { deleteContainer } from '../../../src/container/delete.js';
import { TsrunError } from '../../../src/errors.js';
import type { Spec } from '../../../src/oci/types.js';
import { makeSandbox, type Sandbox } from '../../helpers/container-sandbox.js';
import type { ChildScript } from '../../helpers/fake-shim.js';
import type { WirePlan } from '../../helpers/decode-plan.js';

vi.mock('node:fs', async (actual) => (await import('../../helpers/fake-cgroupfs.js')).withCgroupfs(await actual()));

let sb: Sandbox | undefined;
afterEach(() => { sb?.remove(); sb = undefined; });

const ID = 'c1';

function sandbox(script?: (n: number, plan: WirePlan) => ChildScript, mutate?: (s: Spec) => void): Sandbox {
  sb = makeSandbox(script);
  if (mutate) sb.writeConfig(mutate);
  return sb;
}

function create(s: Sandbox, more: Partial<CreateOptions> = {}, warnings: string[] = []): ReturnType<typeof createContainer> {
  return createContainer({ id: ID, bundle: s.bundle, root: s.root, cgroupHost: s.cgroup.host, warn: (m) => warnings.push(m), ...more });
}

/** Index of the first step of the plan of the default config with this op (the fake plays that plan). */
function stepIndex(plan: WirePlan, op: string): number {
  const i = plan.steps.findIndex((s) => s.op === op);
  if (i < 0) throw new Error(`no ${op} step`);
  return i;
}

describe('create: what it makes', () => {
  it('a state dir with the record and the fifo, the cgroup, and an init born in it that waits at the fifo', async () => {
    const s = sandbox();
    const created = await create(s, { pidFile: join(s.dir, 'pid') });
    const child = s.shim.children[0]!;
    expect(child.cgroupFd).toBeGreaterThanOrEqual(0); // clone3(CLONE_INTO_CGROUP)
    expect(child.plan.waitGo).toBe(true);
    expect(child.state).toBe('waiting');
    expect(child.plan.steps[child.at - 1]!.op).toBe('waitRead');
    expect(created.record.pid).toBe(child.pid);
    expect(created.record.creator).toBeUndefined();
    expect(JSON.parse(readFileSync(join(s.root, ID, 'state.json'), 'utf8')).creator).toBeUndefined();
    expect(s.shim.fifos).toEqual([join(s.root, ID, 'exec.fifo')]);
    expect(s.cgroup.cgroups()).toEqual(['tsrun', `tsrun/${ID}`]);
    expect(readFileSync(join(s.dir, 'pid'), 'utf8')).toBe(String(child.pid));
    created.process.release();
    await deleteContainer(s.root, ID, true);
    expect(s.leftovers(ID)).toEqual([]);
    expect(child.signals).toContain('SIGKILL');
  });

  it('run (started by the caller): no fifo; the init sets up at once and waits on the sync socket', async () => {
    const s = sandbox();
    const created = await create(s, { startedByCaller: true, foreground: true });
    expect(s.shim.fifos).toEqual([]);
    const child = s.shim.children[0]!;
    // The early start: the init runs its plan while tsrun writes state and loads the device program.
    expect(child.plan.waitGo).toBe(false);
    expect(child.plan.steps[child.at - 1]!.op).toBe('waitParent');
    // The record keeps its creator until run has started the container.
    expect(created.record.creator).toBeUndefined();
    created.process.release();
    await deleteContainer(s.root, ID, true);
    expect(s.leftovers(ID)).toEqual([]);
  });
});

describe('create: the order that makes a killed create recoverable', () => {
  it('state.json names the creator and the cgroup before the cgroup and the process exist', async () => {
    const seen: { record: Record<string, unknown>; cgroups: string[] }[] = [];
    const s = sandbox(() => {
      // Called inside tsrun_spawn: the moment of the clone.
      seen.push({ record: JSON.parse(readFileSync(join(s.root, ID, 'state.json'), 'utf8')) as Record<string, unknown>, cgroups: s.cgroup.cgroups() });
      return {};
    });
    (await create(s)).process.release();
    expect(seen[0]!.record).toMatchObject({ pid: 0, creator: { pid: process.pid }, cgroupDir: join(s.cgroup.root, 'tsrun', ID) });
    expect(seen[0]!.cgroups).toEqual(['tsrun', `tsrun/${ID}`]);
  });

  it('without a cgroup the init is recorded before its first step (only its pid could find it)', async () => {
    let atGo: Record<string, unknown> | undefined;
    const s = sandbox(undefined, (spec) => { delete spec.linux!.resources; });
    const created = await create(s, {
      cgroupHost: () => { throw new Error('no cgroup2'); },
      trace: { event: (e) => { if (e.who === 'child' && e.step === 0 && !atGo) atGo = JSON.parse(readFileSync(join(s.root, ID, 'state.json'), 'utf8')) as Record<string, unknown>; } },
    });
    expect(atGo).toMatchObject({ pid: created.process.pid, creator: { pid: process.pid } });
    created.process.release();
  });

  it('TSRUN_NO_CLONE3: placed through cgroup.procs, without the early start and without a warning', async () => {
    const restore = configureSpawn({ ...spawnSettings(), noClone3: true });
    try {
      const s = sandbox();
      const warnings: string[] = [];
      const created = await create(s, { startedByCaller: true, foreground: true }, warnings);
      const child = s.shim.children[0]!;
      expect([child.cgroupFd, child.plan.waitGo]).toEqual([-1, true]);
      expect(readFileSync(join(s.cgroup.root, 'tsrun', ID, 'cgroup.procs'), 'utf8')).toBe(`${child.pid}\n`);
      expect(warnings).toEqual([]);
      created.process.release();
    } finally {
      restore();
    }
  });
});

describe('create: refused before anything exists', () => {
  const cases: [string, (s: Spec) => void, RegExp][] = [
    ['no process', (s) => { delete s.process; }, /process/],
    ['a limit the hierarchy has no controller for', (s) => { s.linux!.resources = { cpu: { shares: 512 } }; }, /cpu/],
    ['a terminal without a console socket', (s) => { s.process!.terminal = true; }, /console-socket/],
  ];
  for (const [name, mutate, message] of cases) {
    it(name, async () => {
      const s = sandbox(undefined, mutate);
      await expect(create(s)).rejects.toThrow(message);
      expect(s.leftovers(ID)).toEqual([]);
      expect(s.shim.children).toEqual([]);
    });
  }

  it('an id in use: the other container is left as it was', async () => {
    const s = sandbox();
    const first = await create(s);
    first.process.release();
    const before = readFileSync(join(s.root, ID, 'state.json'), 'utf8');
    await expect(create(s)).rejects.toThrow(/already exists/);
    expect(readFileSync(join(s.root, ID, 'state.json'), 'utf8')).toBe(before);
    expect(s.shim.living()).toHaveLength(1);
    await deleteContainer(s.root, ID, true);
    expect(s.leftovers(ID)).toEqual([]);
  });
});

describe('create: a failure undoes what was made', () => {
  it('the cgroup cannot be made', async () => {
    const s = sandbox();
    writeFileSync(join(s.cgroup.root, 'tsrun'), 'a file where the parent cgroup goes');
    await expect(create(s)).rejects.toThrow(/tsrun/);
    expect(s.shim.children).toEqual([]);
    expect(s.leftovers(ID).filter((l) => !l.startsWith('cgroup tsrun'))).toEqual([]);
    expect(existsSync(join(s.root, ID))).toBe(false);
  });

  it('tsrun_spawn fails: no process, the cgroup and the state go', async () => {
    const s = sandbox(() => ({ spawnFails: { what: 'clone3', errno: 'EAGAIN' } }));
    await expect(create(s)).rejects.toThrow(/clone3.*EAGAIN/);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('clone3 refused (an old kernel): placed through cgroup.procs instead, with a warning', async () => {
    const s = sandbox((n) => (n === 0 ? { spawnFails: { what: 'clone3', errno: 'ENOSYS' } } : {}));
    const warnings: string[] = [];
    const created = await create(s, {}, warnings);
    expect(s.shim.children).toHaveLength(1);
    expect(s.shim.children[0]!.cgroupFd).toBe(-1);
    expect(readFileSync(join(s.cgroup.root, 'tsrun', ID, 'cgroup.procs'), 'utf8')).toBe(`${created.process.pid}\n`);
    expect(warnings.join('\n')).toMatch(/cgroup\.procs/);
    created.process.release();
  });

  it('clone3 refused, and the fallback spawn fails too', async () => {
    const s = sandbox((n) => ({ spawnFails: { what: n === 0 ? 'clone3' : 'clone', errno: n === 0 ? 'ENOSYS' : 'ENOMEM' } }));
    await expect(create(s)).rejects.toThrow(/clone.*ENOMEM/);
    expect(s.leftovers(ID)).toEqual([]);
  });

  // ~65 creates: give a loaded machine time.
  it('every step of the plan, failing: the init is killed and reaped, nothing stays', { timeout: 60_000 }, async () => {
    // The plan of the default config, as the fake saw it.
    const probe = sandbox();
    (await create(probe)).process.release();
    const plan = probe.shim.children[0]!.plan;
    probe.remove();
    sb = undefined;
    const last = stepIndex(plan, 'waitRead');
    for (let step = 0; step < last; step++) {
      const s = sandbox(() => ({ failAt: { step, errno: 'EACCES', syscall: 'mount' } }));
      const err = await create(s).then(() => undefined, (e: unknown) => e);
      expect(err, `step ${step}`).toBeInstanceOf(TsrunError);
      expect((err as TsrunError).details.step, `step ${step}`).toBe(step);
      expect(s.leftovers(ID), `step ${step}`).toEqual([]);
      expect(s.shim.children[0]!.reaped, `step ${step}`).toBe(true);
      s.remove();
      sb = undefined;
    }
  });

  it('a failure reported after the quick read gave up (the worker thread reads it)', async () => {
    const s = sandbox(() => ({ slowReportsMs: 60, failAt: { step: 3, errno: 'ENOENT' } }));
    await expect(create(s)).rejects.toThrow(/step 3/);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('slow reports, no failure: created', async () => {
    const s = sandbox(() => ({ slowReportsMs: 60 }));
    (await create(s)).process.release();
    expect(s.shim.children[0]!.state).toBe('waiting');
    await deleteContainer(s.root, ID, true);
    expect(s.leftovers(ID)).toEqual([]);
  });

  for (const [name, diesBefore] of [['before the go-ahead', -1], ['half-way through its set-up', 10]] as const) {
    it(`the init dies ${name} (EOF, no report): create fails, nothing stays`, async () => {
      const s = sandbox(() => ({ diesBefore }));
      await expect(create(s)).rejects.toThrow(/ended during its set-up without reporting a failure \(killed by signal 9\)/);
      expect(s.leftovers(ID)).toEqual([]);
    });
  }

  it('the pid file cannot be written', async () => {
    const s = sandbox();
    await expect(create(s, { pidFile: join(s.dir, 'no-such-dir', 'pid') })).rejects.toThrow(/no-such-dir/);
    expect(s.leftovers(ID)).toEqual([]);
    expect(s.shim.children[0]!.signals).toContain('SIGKILL');
  });

  it('the console socket is not there: the pty master is closed too', async () => {
    const s = sandbox(undefined, (spec) => { spec.process!.terminal = true; });
    await expect(create(s, { consoleSocket: join(s.dir, 'no-socket') })).rejects.toThrow(/no-socket/);
    expect(s.leftovers(ID)).toEqual([]);
  });

  it('a createRuntime hook fails: the container is destroyed, then poststop hooks run', async () => {
    const marker = join(process.env.TMPDIR ?? '/tmp', `tsrun-unit-poststop-${process.pid}`);
    const s = sandbox(undefined, (spec) => {
      spec.hooks = { createRuntime: [{ path: '/bin/false' }], poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran > ${marker}`] }] };
    });
    await expect(create(s)).rejects.toThrow(/createRuntime hook 0 \(\/bin\/false\) exited with status 1/);
    expect(s.leftovers(ID)).toEqual([]);
    expect(s.shim.children[0]!.signals).toContain('SIGKILL');
    expect(readFileSync(marker, 'utf8')).toBe('ran\n');
    rmSync(marker, { force: true });
  });

  it('a createContainer hook (inside the container) fails: its plan joined the init, and nothing stays', async () => {
    const s = sandbox((n) => (n === 1 ? { exitsWith: 3 << 8 } : {}), (spec) => { spec.hooks = { createContainer: [{ path: '/usr/bin/hook' }] }; });
    await expect(create(s)).rejects.toThrow(/createContainer hook 0 .*exited with status 3/);
    const [init, hook] = s.shim.children.filter((c) => c.syncFd >= 0);
    expect(hook!.plan.joins.map((j) => j.path)).toContain(`/proc/${init!.pid}/ns/mnt`);
    expect(hook!.plan.steps.map((x) => x.op)).toEqual(['stdinFrom', 'exec']);
    expect(s.leftovers(ID)).toEqual([]);
  });
});
