// `tsrun update` (issue 16 item 5) on this hybrid host, whose cgroup v2 hierarchy has only hugetlb: a
// hugetlb limit is changed in the live cgroup (from -r FILE and from the standard input, merged with
// what the container had); runc's flags for limits whose controller v2 lacks are refused with
// create's message and change nothing; a failed write puts back what the update had written; the
// clients' default restatements warn; a stopped container and bad input are refused naming the
// container or the field. Real memory/cpu/pids limits are proven in the VM lane (test/vm/update.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks } from '../../helpers/bundle.js';
import { cgroup2Controllers, cgroup2Mount, cleanupLifecycle, makeRoot, mustCreateAndStart, scriptBundle, tsrun, uniqueId, waitForDeath } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const mount = cgroup2Mount();
const controllers = mount ? cgroup2Controllers() : [];
const hybrid = mount !== undefined && controllers.includes('hugetlb') && !controllers.includes('memory') && !controllers.includes('pids');
const why = skip ?? (hybrid ? undefined : 'needs a v2 hierarchy with hugetlb and without memory/pids (this hybrid host\'s; the VM lane tests the rest)');

const recorded = (root: string, id: string): unknown => (JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { config: { linux: { resources?: unknown } } }).config.linux.resources;

describe.skipIf(why !== undefined)(`update on a hybrid host${why ? ` [skipped: ${why}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  async function running(): Promise<{ root: string; id: string; dir: string; pid: number }> {
    const root = makeRoot();
    const id = uniqueId('update');
    const { pid } = await mustCreateAndStart(root, scriptBundle('sleep 1000'), id);
    return { root, id, dir: join(mount!, 'tsrun', id), pid };
  }

  it('-r FILE and -r - change the hugetlb limit of the live cgroup, merged with the container\'s resources', async () => {
    const { root, id, dir } = await running();
    const file = join(root, '..', 'resources.json');
    writeFileSync(file, JSON.stringify({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2 ** 21 }] }));
    const r1 = await tsrun(root, ['update', '-r', file, id]);
    expect(r1.stderr).toBe('');
    expect(r1.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'hugetlb.2MB.max'), 'utf8')).toBe(`${4 * 2 ** 21}\n`);
    const r2 = await tsrun(root, ['update', '--resources', '-', id], { input: JSON.stringify({ hugepageLimits: [{ pageSize: '1GB', limit: 2 ** 30 }], memory: { limit: 0 }, pids: { limit: 0 } }) });
    expect(r2.stderr).toBe('');
    expect(r2.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'hugetlb.1GB.max'), 'utf8')).toBe(`${2 ** 30}\n`);
    expect(readFileSync(join(dir, 'hugetlb.2MB.max'), 'utf8')).toBe(`${4 * 2 ** 21}\n`);
    expect(recorded(root, id)).toMatchObject({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2 ** 21 }, { pageSize: '1GB', limit: 2 ** 30 }] });
  });

  it('runc\'s flags for memory, cpu and pids are refused as at create, naming the field; nothing changes', async () => {
    const { root, id, dir } = await running();
    for (const [flags, field, controller] of [
      [['--memory', '100m'], 'memory.limit', 'memory'],
      [['--memory-swap', '-1'], 'memory.swap', 'memory'],
      [['--cpu-quota', '50000', '--cpu-period', '100000'], 'cpu.quota', 'cpu'],
      [['--cpu-share', '512'], 'cpu.shares', 'cpu'],
      [['--cpuset-cpus', '0'], 'cpu.cpus', 'cpuset'],
      [['--pids-limit', '100'], 'pids.limit', 'pids'],
    ] as const) {
      const r = await tsrun(root, ['update', ...flags, id]);
      expect(r.exitCode, flags.join(' ')).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^tsrun: linux\\.resources\\.${field.replace('.', '\\.')}: needs the cgroup v2 "${controller}" controller, but this host's v2 hierarchy \\(${mount}\\) has only: hugetlb`));
    }
    expect(recorded(root, id)).toBeUndefined();
    expect(readFileSync(join(dir, 'cgroup.procs'), 'utf8')).not.toBe('');
    expect((await tsrun(root, ['state', id])).stdout).toContain('"status": "running"');
  });

  it('what podman and ctr send by default (pids 2048, cpu shares 1024) only warns, as at create', async () => {
    const { root, id } = await running();
    const r = await tsrun(root, ['update', '--pids-limit', '2048', '--cpu-share', '1024', id]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^tsrun: warning: linux\.resources\.cpu\.shares not applied: cpu shares 1024/),
      expect.stringMatching(/^tsrun: warning: linux\.resources\.pids\.limit not applied: a pids limit of 2048/),
    ]);
  });

  it('a write the kernel refuses fails the update, and the limits written before it get their old values back', async () => {
    const { root, id, dir } = await running();
    expect((await tsrun(root, ['update', '-r', '-', id], { input: JSON.stringify({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2 ** 21 }] }) })).exitCode).toBe(0);
    const r = await tsrun(root, ['update', '-r', '-', id], { input: JSON.stringify({ hugepageLimits: [{ pageSize: '2MB', limit: 2 ** 21 }], unified: { 'cgroup.max.depth': 'deep' } }) });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cgroup\.max\.depth.*EINVAL/);
    expect(readFileSync(join(dir, 'hugetlb.2MB.max'), 'utf8')).toBe(`${4 * 2 ** 21}\n`);
    expect(recorded(root, id)).toEqual({ hugepageLimits: [{ pageSize: '2MB', limit: 4 * 2 ** 21 }] });
  });

  it('bad input names the flag or the field; a stopped container is refused', async () => {
    const { root, id, pid } = await running();
    const size = await tsrun(root, ['update', '--memory', '12x', id]);
    expect(size.exitCode).toBe(2);
    expect(size.stderr).toMatch(/invalid value for --memory: "12x"/);
    const json = await tsrun(root, ['update', '-r', '-', id], { input: '{"memory":{"limit":"lots"}}' });
    expect(json.exitCode).toBe(1);
    expect(json.stderr).toMatch(/memory\.limit: must be/);
    const rdt = await tsrun(root, ['update', '--l3-cache-schema', 'L3:0=f', id]);
    expect(rdt.exitCode).toBe(1);
    expect(rdt.stderr).toMatch(/no Intel RDT/);
    expect((await tsrun(root, ['kill', id, 'KILL'])).exitCode).toBe(0);
    await waitForDeath(pid);
    const stopped = await tsrun(root, ['update', '--pids-limit', '10', id]);
    expect(stopped.exitCode).toBe(1);
    expect(stopped.stderr).toMatch(new RegExp(`cannot update container ${id}: container not running \\(it is stopped\\)`));
  });
});
