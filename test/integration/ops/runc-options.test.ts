// Options runc accepts that clients pass (issue 16, item 7): exec -t=false, --additional-gids,
// --ignore-paused, --cgroup, --apparmor/--process-label (refused when they would ask for confinement
// tsrun does not apply); run --keep, --no-subreaper; global --rootless, --criu; events --interval as a
// duration and --stats with runc's keys (compared with `runc events --stats` on this host); ps as runc
// prints it (the host's `ps -ef` lines) and -f json.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, REPO, settled, TSRUN, type TestBundle } from '../../helpers/bundle.js';
import {
  cgroup2Mount, cleanupLifecycle, makeRoot, runDetachedIn, scriptBundle, stateOf, tsrun, uniqueId, waitForStatus,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const hasCgroup2 = cgroup2Mount() !== undefined;
const haveRunc = spawnSync('runc', ['--version']).status === 0;

/** The keys of an object, and of the objects in it, as sorted paths ("cpu.usage.kernel"). */
function keyPaths(v: unknown, prefix = ''): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return [prefix];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => keyPaths(x, prefix ? `${prefix}.${k}` : k)).sort();
}

describe.skipIf(skip !== undefined)(`ops: runc's options${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  async function running(script = 'sleep 100000 & wait'): Promise<{ root: string; id: string; pid: number; bundle: TestBundle }> {
    const root = makeRoot();
    const id = uniqueId('ropt');
    const bundle = scriptBundle(script);
    const r = await runDetachedIn(root, bundle, id);
    if (r.exitCode !== 0) throw new Error(`run -d exited ${r.exitCode}: ${r.stderr()}`);
    return { root, id, pid: (await stateOf(root, id)).pid, bundle };
  }

  it('exec -t=false --tty=false, and --additional-gids (-g, repeated or comma-separated) as supplementary groups', async () => {
    const { root, id } = await running();
    const r = await tsrun(root, ['exec', '-t=false', '--tty=false', '--additional-gids', '1234', '-g', '55,66', id, 'sh', '-c', 'grep ^Groups: /proc/self/status; [ -t 0 ] && echo tty || echo no-tty']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Groups:\s+(.*\b)?55 66 1234\s*\nno-tty\n$/);
  });

  it.skipIf(!hasCgroup2)('exec into a paused container is refused as runc words it; --ignore-paused runs it once resumed', async () => {
    const { root, id } = await running();
    expect((await tsrun(root, ['pause', id])).exitCode).toBe(0);
    const refused = await tsrun(root, ['exec', id, 'true']);
    expect(refused.exitCode).toBe(255);
    expect(refused.stderr).toMatch(/cannot exec in a paused container \(use --ignore-paused to override\)/);
    const child = spawn('node', [TSRUN, '--root', root, 'exec', '--ignore-paused', id, 'echo', 'ran'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const done = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    await new Promise((r) => setTimeout(r, 500));
    expect((await tsrun(root, ['resume', id])).exitCode).toBe(0);
    expect(await done).toBe(0);
    expect(out).toBe('ran\n');
  });

  it.skipIf(!hasCgroup2)('exec --cgroup SUB puts the process in an existing sub-cgroup of the container\'s; a path outside it is refused', async () => {
    const { root, id } = await running();
    const dir = (JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { cgroupDir: string }).cgroupDir;
    mkdirSync(join(dir, 'sub'));
    try {
      const r = await tsrun(root, ['exec', '--cgroup', 'sub', id, 'cat', '/proc/self/cgroup']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^0::.*/${id}/sub\\n`, 'm'));
      for (const bad of ['../..', 'nonexistent']) {
        const b = await tsrun(root, ['exec', '--cgroup', bad, id, 'true']);
        expect(b.exitCode, bad).toBe(255);
        expect(b.stderr, bad).toMatch(/--cgroup/);
      }
    } finally {
      await tsrun(root, ['delete', '--force', id]);
      rmSync(join(dir, 'sub'), { recursive: true, force: true });
    }
  });

  it('exec --apparmor PROFILE and --process-label LABEL are refused (tsrun would not apply them); empty and "unconfined" pass', async () => {
    const { root, id } = await running();
    const aa = await tsrun(root, ['exec', '--apparmor', 'docker-default', id, 'true']);
    expect(aa.exitCode).not.toBe(0);
    expect(aa.stderr).toMatch(/--apparmor docker-default: tsrun does not apply AppArmor profiles/);
    const label = await tsrun(root, ['exec', '--process-label', 'system_u:system_r:container_t:s0', id, 'true']);
    expect(label.exitCode).not.toBe(0);
    expect(label.stderr).toMatch(/--process-label .*: tsrun does not apply SELinux labels/);
    const ok = await tsrun(root, ['exec', '--apparmor', 'unconfined', '--process-label', '', id, 'true']);
    expect(ok.stderr).toBe('');
    expect(ok.exitCode).toBe(0);
  });

  it('run --keep leaves the stopped container for delete; --no-subreaper and the global --rootless, --criu are accepted', async () => {
    const root = makeRoot();
    const id = uniqueId('keep');
    const bundle = scriptBundle('exit 3');
    const r = await tsrun(root, ['--rootless', 'false', '--criu', '/usr/sbin/criu', 'run', '--keep', '--no-subreaper', '--bundle', bundle.dir, id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(3);
    expect((await stateOf(root, id)).status).toBe('stopped');
    const d = await tsrun(root, ['delete', id]);
    expect(d.exitCode).toBe(0);
    expect((await tsrun(root, ['state', id])).exitCode).not.toBe(0);
  });

  it.skipIf(!hasCgroup2)('events --interval takes a duration (1s, 500ms) and refuses one that is not', async () => {
    const { root, id } = await running('sleep 1');
    const r = await tsrun(root, ['events', '--interval', '500ms', id], { timeout: 15_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(1);
    await waitForStatus(root, id, 'stopped');
    const bad = await tsrun(root, ['events', '--interval', '5 parsecs', id]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--interval needs a duration/);
  });

  it.skipIf(!hasCgroup2)('events --stats: data has runc\'s keys and units (cpu.usage.total in ns, memory.usage.limit, pids.current…)', async () => {
    const { root, id } = await running();
    // The shell starts its background sleep after run -d has returned: wait until the cgroup holds both
    // (pids.current below was read once, and could catch the shell alone).
    const ps = async (): Promise<number[]> => JSON.parse((await tsrun(root, ['ps', '--format', 'json', id])).stdout) as number[];
    expect(await settled(ps, (p) => p.length === 2)).toHaveLength(2);
    const r = await tsrun(root, ['events', '--stats', id]);
    expect(r.stderr).toBe('');
    const ev = JSON.parse(r.stdout) as { type: string; id: string; data: Record<string, Record<string, unknown>>; cgroup2: { cpu: { usage_usec: number } } };
    expect(ev.type).toBe('stats');
    expect(Object.keys(ev.data)).toEqual(['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
    const usage = ev.data.cpu!.usage as { total: number; kernel: number; user: number };
    expect(usage.total).toBeGreaterThan(0);
    // nanoseconds (runc), from cpu.stat's microseconds
    expect(usage.total % 1000).toBe(0);
    expect(usage.total).toBeGreaterThanOrEqual(ev.cgroup2.cpu.usage_usec * 1000);
    expect(ev.data.pids).toMatchObject({ current: 2 });
    for (const k of ['usage', 'swap', 'kernel', 'kernelTCP']) expect(ev.data.memory![k]).toHaveProperty('limit');
    expect(ev.data.network_interfaces).toBeNull();
  });

  it.skipIf(!hasCgroup2 || !haveRunc)('events --stats: every key runc prints for a container on this host, tsrun prints (as far as its cgroup has the figure)', async () => {
    const { root, id } = await running();
    const mine = keyPaths((JSON.parse((await tsrun(root, ['events', '--stats', id])).stdout) as { data: unknown }).data);
    // runc on the same bundle (its cgroup is where runc puts it on this host).
    const rid = uniqueId('runc');
    const bundle = scriptBundle('sleep 100000 & wait');
    spawnSync('runc', ['run', '-d', '--bundle', bundle.dir, rid], { stdio: 'ignore' });
    try {
      const theirs = keyPaths((JSON.parse(spawnSync('runc', ['events', '--stats', rid], { encoding: 'utf8' }).stdout) as { data: unknown }).data);
      // Figures a v1 or fuller v2 cgroup has and this one lacks: raw memory.stat keys, per-cpu usage,
      // cpuset lists, usage/max of memory entries.
      const optional = /^(memory\.raw\.|memory\.(usage|swap|kernel|kernelTCP)\.(usage|max)$|memory\.cache$|cpu\.usage\.percpu|cpuset\.(cpus|mems)$|cpu\.throttling\.|pids\.limit$|blkio\.|hugetlb\.)/;
      expect(theirs.filter((k) => !optional.test(k) && !mine.includes(k))).toEqual([]);
      expect(mine.filter((k) => !theirs.includes(k) && !optional.test(k))).toEqual([]);
    } finally {
      spawnSync('runc', ['delete', '--force', rid], { stdio: 'ignore' });
    }
  });

  it.skipIf(!hasCgroup2)('ps prints the host\'s `ps -ef` header and the container\'s lines (as runc); ps options after the id; -f json the pids', async () => {
    const { root, id, pid, bundle } = await running();
    const header = spawnSync('ps', ['-ef'], { encoding: 'utf8' }).stdout.split('\n')[0];
    const table = await tsrun(root, ['ps', id]);
    expect(table.stderr).toBe('');
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(header);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^root\\s+${pid}\\s+.*sh -c .*${bundle.marker}`)));
    const custom = await tsrun(root, ['ps', id, '-o', 'pid,comm']);
    expect(custom.stdout).toMatch(new RegExp(`^\\s*PID COMMAND\\n(.*\\n)*\\s*${pid} sh\\n`));
    const json = await tsrun(root, ['ps', '-f', 'json', id]);
    expect(JSON.parse(json.stdout)).toContain(pid);
  });
});

describe.skipIf(skip !== undefined)(`--log and --log-format as runc${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  const runtimes = haveRunc ? ['tsrun', 'runc'] as const : ['tsrun'] as const;
  for (const runtime of runtimes) {
    it(`${runtime}: with --log FILE --log-format json an error is a JSON record in FILE and plain text on stderr (containerd reads the file)`, async () => {
      const root = makeRoot();
      const log = join(root, '..', 'log.json');
      const id = uniqueId('nolog');
      const r = runtime === 'tsrun'
        ? await tsrun(root, ['--log', log, '--log-format', 'json', 'state', id])
        : await (async () => { const p = spawnSync('runc', ['--root', root, '--log', log, '--log-format', 'json', 'state', id], { encoding: 'utf8' }); return { exitCode: p.status, stderr: p.stderr, stdout: p.stdout }; })();
      expect(r.exitCode).toBe(1);
      expect(r.stderr).not.toMatch(/[{}]/);
      expect(r.stderr).toMatch(/does not exist\n?$/);
      const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({ level: 'error', msg: expect.stringMatching(/does not exist/) as unknown as string });
      expect(typeof records[0]!.time).toBe('string');
    });
  }

  it('tsrun: with --log FILE a warning goes to FILE only; without, to stderr in the --log-format', async () => {
    const root = makeRoot();
    const log = join(root, '..', 'log.json');
    const bundle = scriptBundle('true', (s) => { s.linux!.resources = { memory: { swappiness: 0 } }; });
    const a = await tsrun(root, ['--log', log, '--log-format', 'json', 'run', '--bundle', bundle.dir, uniqueId('w')]);
    expect(a.stderr).toBe('');
    expect(a.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(log, 'utf8').trim())).toMatchObject({ level: 'warning', msg: expect.stringMatching(/swappiness ignored/) as unknown as string });
    const b = await tsrun(root, ['--log-format', 'json', 'run', '--bundle', bundle.dir, uniqueId('w')]);
    expect(JSON.parse(b.stderr.trim())).toMatchObject({ level: 'warning' });
  });
});
