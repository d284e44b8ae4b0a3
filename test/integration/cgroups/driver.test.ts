// The cgroup driver against this machine's real cgroup v2 hierarchy: everything that needs no v2
// resource controller (hybrid hosts have none but hugetlb) runs here; limits run in limits.test.ts.
import { closeSync, existsSync, fstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyCgroup, loadCgroup, planCgroup, describeHost, CgroupError } from '../../../src/cgroups/index.js';
import { cannotRun, cleanUp, host, makeCgroup, shellIn, skipNote, sleep, specWith, testName, track, until } from './support.js';

afterEach(cleanUp);

describe.skipIf(cannotRun())(`cgroup v2 driver on this host${skipNote([])}`, () => {
  const v2 = host?.mountPoint ?? '';

  it('creates the cgroup, gives a directory fd for clone3, and removes it again', async () => {
    const cg = makeCgroup('create');
    expect(cg.dir).toBe(join(v2, testName('create')));
    expect(existsSync(join(cg.dir, 'cgroup.procs'))).toBe(true);
    const fd = cg.openDirFd();
    try {
      expect(fstatSync(fd).isDirectory()).toBe(true);
    } finally {
      closeSync(fd);
    }
    await cg.destroy();
    expect(existsSync(cg.dir)).toBe(false);
  });

  it('defaults to <v2>/tsrun/<id> and removes /tsrun again when nothing else is in it', async () => {
    const id = testName('default');
    const hadTsrun = existsSync(join(v2, 'tsrun'));
    const plan = planCgroup(specWith({}), id, host!);
    const cg = track(applyCgroup(plan));
    expect(cg.dir).toBe(join(v2, 'tsrun', id));
    await cg.destroy();
    expect(existsSync(cg.dir)).toBe(false);
    // Other containers may be using /tsrun at the same moment; only a /tsrun we made and nobody shares must go.
    if (!hadTsrun && !existsSync(join(v2, 'tsrun'))) expect(existsSync(join(v2, 'tsrun'))).toBe(false);
  });

  it('a reloaded default-path cgroup still removes the /tsrun it no longer shares', async () => {
    const id = testName('reload');
    const cg = track(applyCgroup(planCgroup(specWith({}), id, host!)));
    const again = loadCgroup(cg.dir);
    await again.destroy();
    expect(existsSync(cg.dir)).toBe(false);
    const others = existsSync(join(v2, 'tsrun')) ? readdirSync(join(v2, 'tsrun'), { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
    if (others.length === 0) expect(existsSync(join(v2, 'tsrun'))).toBe(false);
  });

  it('moves a process in with addProcess, and cgroup.kill ends it and everything it started', async () => {
    const cg = makeCgroup('kill');
    const sh = shellIn(cg, 'sleep 1000 & sleep 1000 & echo started; wait');
    await until(() => sh.stdout().includes('started'));
    expect(cg.pids()).toHaveLength(3);
    expect(readFileSync(`/proc/${sh.pid}/cgroup`, 'utf8')).toContain(`0::/${testName('kill')}\n`);
    expect(cg.populated()).toBe(true);
    await cg.kill();
    expect(cg.populated()).toBe(false);
    expect(await sh.finished).toMatchObject({ signal: 'SIGKILL' });
    expect(cg.pids()).toEqual([]);
  });

  it('freeze stops a running process making progress and thaw resumes it', async () => {
    const cg = makeCgroup('freeze');
    // The count goes to a file (renamed into place, so it is always whole), not to a pipe: lines in a
    // pipe reach this process some time after they are written, and those written just before the
    // freeze could arrive after frozenAt was taken (a fixed 100 ms wait was not always enough).
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-freeze-'));
    try {
      const counter = join(dir, 'count');
      shellIn(cg, `i=0; while :; do i=$((i+1)); echo $i > ${counter}.tmp; mv ${counter}.tmp ${counter}; sleep 0.01; done`);
      const count = (): number => { try { return Number(readFileSync(counter, 'utf8')); } catch { return 0; } };
      await until(() => count() > 5);
      await cg.freeze();
      expect(readFileSync(join(cg.dir, 'cgroup.events'), 'utf8')).toContain('frozen 1');
      const frozenAt = count();
      await sleep(500);
      expect(count()).toBe(frozenAt);
      await cg.thaw();
      await until(() => count() > frozenAt + 5);
      expect(readFileSync(join(cg.dir, 'cgroup.events'), 'utf8')).toContain('frozen 0');
    } finally {
      await cg.kill(5_000); // the loop would go on writing into the directory being removed
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('kill also works on a frozen cgroup, and destroy waits for the processes to leave', async () => {
    const cg = makeCgroup('frozen-kill');
    const sh = shellIn(cg, 'echo started; sleep 1000');
    await until(() => sh.stdout().includes('started'));
    await cg.freeze();
    await cg.kill();
    await cg.destroy();
    expect(existsSync(cg.dir)).toBe(false);
  });

  it('loadCgroup re-opens an existing cgroup for a later command', async () => {
    const cg = makeCgroup('load');
    const sh = shellIn(cg, 'echo started; sleep 1000');
    await until(() => sh.stdout().includes('started'));
    const again = loadCgroup(cg.dir);
    expect(again.pids()).toContain(sh.pid);
    await again.kill();
    await again.destroy();
    expect(existsSync(cg.dir)).toBe(false);
    expect(() => loadCgroup(cg.dir)).toThrow(CgroupError);
  });

  it('reports stats from whatever files exist (cpu.stat is core, so always there)', async () => {
    const cg = makeCgroup('stats');
    const sh = shellIn(cg, 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo done');
    await sh.finished;
    const stats = cg.stats();
    expect(stats.cpu?.['usage_usec']).toBeGreaterThan(0);
    expect(cg.oomKilled()).toBe(false);
  });

  it.skipIf(!host?.controllers.includes('hugetlb'))('writes hugetlb limits (hugetlb is in v2 even on hybrid hosts)', async () => {
    const cg = makeCgroup('hugetlb', { hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2097152 }] });
    expect(readFileSync(join(cg.dir, 'hugetlb.2MB.max'), 'utf8').trim()).toBe('8388608');
    if (existsSync(join(cg.dir, 'hugetlb.2MB.rsvd.max'))) {
      expect(readFileSync(join(cg.dir, 'hugetlb.2MB.rsvd.max'), 'utf8').trim()).toBe('8388608');
    }
    expect(cg.stats().hugetlb?.['2MB']).toEqual({ current: 0, max: 8388608 });
  });

  it.skipIf(!host?.controllers.includes('hugetlb'))('writes linux.resources.unified verbatim', () => {
    const cg = makeCgroup('unified', { unified: { 'hugetlb.2MB.max': '2097152', 'cgroup.max.descendants': '3' } });
    expect(readFileSync(join(cg.dir, 'hugetlb.2MB.max'), 'utf8').trim()).toBe('2097152');
    expect(readFileSync(join(cg.dir, 'cgroup.max.descendants'), 'utf8').trim()).toBe('3');
  });

  it('refuses limits whose controller v2 lacks here, before creating anything', () => {
    const lacking = ['memory', 'cpu', 'pids'].filter((c) => !host!.controllers.includes(c));
    if (lacking.length === 0) return; // a pure v2 host: nothing to refuse
    const name = testName('refuse');
    const resources = { memory: { limit: 64 << 20 }, cpu: { shares: 512 }, pids: { limit: 10 } };
    const field = { memory: 'linux.resources.memory.limit', cpu: 'linux.resources.cpu.shares', pids: 'linux.resources.pids.limit' } as const;
    for (const c of lacking as (keyof typeof field)[]) {
      const spec = specWith({ [c]: resources[c] }, { cgroupsPath: `/${name}` });
      expect(() => planCgroup(spec, name, host!)).toThrow(`${field[c]}: needs the cgroup v2 "${c}" controller, but ${describeHost(host!)}`);
    }
    expect(existsSync(join(v2, name))).toBe(false);
    if (host!.hybrid && v2 === '/sys/fs/cgroup/unified' && host!.controllers.join(' ') === 'hugetlb') {
      expect(() => planCgroup(specWith({ memory: { limit: 1 << 26 } }), name, host!)).toThrow(
        'linux.resources.memory.limit: needs the cgroup v2 "memory" controller, but this host\'s v2 hierarchy (/sys/fs/cgroup/unified) has only: hugetlb (cgroup v1 holds the others: hybrid host; see make test-vm)',
      );
    }
  });

  it.skipIf(!host?.controllers.includes('hugetlb'))('refuses to enable controllers below a cgroup that has processes of its own', async () => {
    const parent = makeCgroup('busy-parent');
    const sh = shellIn(parent, 'echo started; sleep 1000');
    await until(() => sh.stdout().includes('started'));
    const name = testName('busy-parent');
    const spec = specWith({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }, { cgroupsPath: `/${name}/leaf` });
    expect(() => track(applyCgroup(planCgroup(spec, 'leaf', host!)))).toThrow(
      `cgroup: cannot enable hugetlb below ${parent.dir}: it has processes of its own, and cgroup v2 allows controllers only for the children of cgroups without processes (choose a linux.cgroupsPath elsewhere)`,
    );
    expect(existsSync(join(parent.dir, 'leaf'))).toBe(false);
  });

  it('removes what it created when the kernel refuses a write, naming the file and errno', () => {
    const name = testName('badwrite');
    const spec = specWith({ unified: { 'cgroup.max.descendants': 'lots' } }, { cgroupsPath: `/${name}/leaf` });
    let error: unknown;
    try {
      track(applyCgroup(planCgroup(spec, name, host!)));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CgroupError);
    expect((error as CgroupError).message).toBe(
      `cgroup: writing "lots" to ${join(v2, name, 'leaf', 'cgroup.max.descendants')} failed: EINVAL (from linux.resources.unified["cgroup.max.descendants"])`,
    );
    expect((error as CgroupError).details).toMatchObject({ errno: 'EINVAL', syscall: 'write', field: 'linux.resources.unified["cgroup.max.descendants"]' });
    expect(existsSync(join(v2, name))).toBe(false);
  });
});
