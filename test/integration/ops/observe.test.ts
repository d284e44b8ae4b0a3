// Commands that look at (or freeze) a running container: `ps` (table and JSON), `pause`/`resume`
// (state, and a counter loop that stops advancing while frozen), `events --stats`, `features`,
// `inspect --format json`, and `--log-format json run --trace` (JSON trace lines with man URLs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runTsrun, settled, type TestBundle } from '../../helpers/bundle.js';
import {
  cgroup2Mount, cleanupLifecycle, createIn, defaultCgroupDir, makeRoot, parseJsonLines, rootEntries, runDetachedIn, scriptBundle, stateOf,
  tsrun, tsrunJson, uniqueId, waitForDeath, waitForFile, waitForStatus,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const hasCgroup2 = cgroup2Mount() !== undefined;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip !== undefined)(`ops: ps, pause/resume, events, features, inspect, trace${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  async function running(script = 'sleep 100000 & wait'): Promise<{ root: string; id: string; pid: number; bundle: TestBundle }> {
    const root = makeRoot();
    const id = uniqueId('obs');
    const bundle = scriptBundle(script);
    const r = await runDetachedIn(root, bundle, id);
    if (r.exitCode !== 0) throw new Error(`run -d exited ${r.exitCode}: ${r.stderr()}`);
    const st = await stateOf(root, id);
    expect(st.status).toBe('running');
    return { root, id, pid: st.pid, bundle };
  }

  it.skipIf(!hasCgroup2)('ps: a table with the init and its child, and --format json = an array of host pids including the init', async () => {
    const { root, id, pid, bundle } = await running('sleep 4242 & wait');
    // The background sleep may still be forking: wait until the cgroup holds both.
    let json: number[] = [];
    for (let i = 0; i < 50 && json.length < 2; i++) {
      const r = await tsrun(root, ['ps', '--format', 'json', id]);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/^\[[0-9,]*\]\n$/);
      json = JSON.parse(r.stdout) as number[];
      if (json.length < 2) await sleep(50);
    }
    expect(json).toContain(pid);
    expect(json).toHaveLength(2);
    const child = json.find((p) => p !== pid)!;
    expect(readFileSync(`/proc/${child}/cmdline`, 'utf8')).toBe('sleep\x004242\x00');
    const table = await tsrun(root, ['ps', id]);
    expect(table.exitCode).toBe(0);
    // runc's table: the host's `ps -ef` header and the container's lines.
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^root\\s+${pid}\\s.*sh -c .*${bundle.marker}`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^root\\s+${child}\\s.*sleep 4242$`)));
    const unknown = await tsrun(root, ['ps', uniqueId('nope')]);
    expect(unknown.exitCode).not.toBe(0);
    expect(unknown.stderr).toMatch(/does not exist/);
  });

  it.skipIf(!hasCgroup2)('pause freezes the container (state paused, counter stops), resume thaws it (state running, counter moves)', async () => {
    const { root, id, bundle } = await running('i=0; while true; do i=$((i+1)); echo $i > /counter.tmp; mv /counter.tmp /counter; usleep 20000; done');
    const counterFile = join(bundle.rootfs, 'counter');
    await waitForFile(counterFile, '3');
    const read = (): number => Number(readFileSync(counterFile, 'utf8').trim());

    const p = await tsrun(root, ['pause', id]);
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(0);
    expect((await stateOf(root, id)).status).toBe('paused');
    const frozenAt = read();
    await sleep(500);
    expect(read()).toBe(frozenAt);
    // Pausing twice is an error (it is no longer running).
    const again = await tsrun(root, ['pause', id]);
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toMatch(/cannot pause container .*: container not running \(it is paused\)/);

    const r = await tsrun(root, ['resume', id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect((await stateOf(root, id)).status).toBe('running');
    // Thawed, the loop moves the counter again within its next usleep (a fixed 500 ms wait was a
    // bet on how soon a loaded host schedules it): wait for it to move.
    expect(await settled(read, (n) => n > frozenAt)).toBeGreaterThan(frozenAt);
    const resumeRunning = await tsrun(root, ['resume', id]);
    expect(resumeRunning.exitCode).not.toBe(0);
    expect(resumeRunning.stderr).toMatch(/not paused/);
  });

  it.skipIf(!hasCgroup2)('events --stats prints one JSON line of type "stats" with cgroup2.cpu.usage_usec (runc\'s data.cpu.usage.total: ops/runc-options)', async () => {
    const { root, id } = await running();
    const r = await tsrun(root, ['events', '--stats', id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const ev = JSON.parse(lines[0]!) as { type: string; id: string; cgroup2: { cpu?: { usage_usec?: unknown } } };
    expect(ev.type).toBe('stats');
    expect(ev.id).toBe(id);
    expect(typeof ev.cgroup2.cpu?.usage_usec).toBe('number');
    expect(ev.cgroup2.cpu!.usage_usec as number).toBeGreaterThan(0);
  });

  it('features prints JSON with ociVersionMax and linux.namespaces including "pid"', async () => {
    const r = await runTsrun(['features']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const f = JSON.parse(r.stdout) as { ociVersionMin?: string; ociVersionMax?: string; hooks?: string[]; linux?: { namespaces?: string[] } };
    expect(f.ociVersionMax).toMatch(/^1\.\d+\.\d+$/);
    expect(f.ociVersionMin).toMatch(/^1\.\d+\.\d+$/);
    expect(f.linux?.namespaces).toContain('pid');
    expect(f.linux?.namespaces).toEqual(expect.arrayContaining(['mount', 'network', 'uts', 'ipc', 'user', 'cgroup']));
    expect(f.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  });

  it('inspect --format json: pid isolated, user shared, cgroup path ends with the id, /proc mounted, bounding set = config\'s', async () => {
    const { root, id, pid, bundle } = await running();
    const r = await tsrun(root, ['inspect', '--format', 'json', id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const info = JSON.parse(r.stdout) as {
      id: string; pid: number; status: string;
      namespaces: { type: string; container: string; host: string; isolated: boolean }[];
      cgroup?: { path: string };
      mounts: { mountPoint: string; fsType: string }[];
      capabilities: { bounding: string[] };
    };
    expect(info).toMatchObject({ id, pid, status: 'running' });
    const ns = (t: string): { isolated: boolean; container: string } | undefined => info.namespaces.find((n) => n.type === t);
    expect(ns('pid')?.isolated).toBe(true);
    expect(ns('pid')?.container).toMatch(/^pid:\[\d+\]$/);
    expect(ns('mnt')?.isolated).toBe(true);
    expect(ns('user')?.isolated).toBe(false);
    if (hasCgroup2) {
      expect(info.cgroup?.path).toMatch(new RegExp(`/${id}$`));
      expect(existsSync(info.cgroup!.path)).toBe(true);
    }
    expect(info.mounts).toContainEqual(expect.objectContaining({ mountPoint: '/proc', fsType: 'proc' }));
    expect([...info.capabilities.bounding].sort()).toEqual([...bundle.spec.process!.capabilities!.bounding!].sort());
  });

  it('--log-format json run --trace: JSON trace lines, every syscall step with its man7.org URL', async () => {
    const root = makeRoot();
    const id = uniqueId('trace');
    const bundle = scriptBundle('echo traced');
    const r = await tsrunJson(root, ['run', '--trace', '--bundle', bundle.dir, id]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('traced\n');
    const records = parseJsonLines(r.stderr) as { level: string; syscall?: string; man?: string; title: string; result: string }[];
    const trace = records.filter((e) => e.level === 'trace');
    expect(trace.length).toBeGreaterThan(10);
    const withSyscall = trace.filter((e) => e.syscall);
    expect(withSyscall.length).toBeGreaterThan(5);
    for (const e of withSyscall) {
      expect(e.man, `${e.title}`).toMatch(new RegExp(`^https://man7\\.org/linux/man-pages/man([27])/${e.syscall}\\.\\1\\.html$`));
    }
    const bySyscall = (s: string): { man?: string; result: string } | undefined => withSyscall.find((e) => e.syscall === s);
    expect(bySyscall('pivot_root')?.man).toBe('https://man7.org/linux/man-pages/man2/pivot_root.2.html');
    expect(bySyscall('pivot_root')?.result).toBe('ok');
    expect(bySyscall('mount')?.man).toBe('https://man7.org/linux/man-pages/man2/mount.2.html');
    expect(bySyscall('execve')?.man).toBe('https://man7.org/linux/man-pages/man2/execve.2.html');
    expect(rootEntries(root)).toEqual([]);
  });

  it.skipIf(!hasCgroup2)('pause of a created container: state says paused and resume thaws it back to created (as runc)', async () => {
    const root = makeRoot();
    const id = uniqueId('obs-pause-created');
    const bundle = scriptBundle('sleep 100000 & wait');
    const c = await createIn(root, bundle, id);
    expect(c.exitCode).toBe(0);
    const st = await stateOf(root, id);
    expect(st.status).toBe('created');
    const p = await tsrun(root, ['pause', id]);
    expect(p.stderr).toBe('');
    expect(p.exitCode).toBe(0);
    // The freezer took it: cgroup.freeze is 1 ...
    expect(readFileSync(join(defaultCgroupDir(id), 'cgroup.freeze'), 'utf8').trim()).toBe('1');
    // ... so the container is paused, and resume must be able to thaw it.
    expect((await stateOf(root, id)).status).toBe('paused');
    const r = await tsrun(root, ['resume', id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(readFileSync(join(defaultCgroupDir(id), 'cgroup.freeze'), 'utf8').trim()).toBe('0');
    expect((await stateOf(root, id)).status).toBe('created');
  });

  it.skipIf(!hasCgroup2)('delete --force of a paused container kills it promptly and leaves nothing', async () => {
    const { root, id, pid } = await running();
    expect((await tsrun(root, ['pause', id])).exitCode).toBe(0);
    expect((await stateOf(root, id)).status).toBe('paused');
    const t0 = Date.now();
    const d = await tsrun(root, ['delete', '--force', id]);
    expect(d.stderr).toBe('');
    expect(d.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await waitForDeath(pid)).not.toMatch(/^alive/);
    expect(rootEntries(root)).toEqual([]);
    expect(existsSync(defaultCgroupDir(id))).toBe(false);
  });

  it.skipIf(!hasCgroup2)('events (streaming, --interval 1) prints stats lines while the container runs and exits 0 when it stops', async () => {
    const { root, id } = await running('sleep 2');
    const r = await tsrun(root, ['events', '--interval', '1', id], { timeout: 15_000 });
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const events = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; id: string });
    expect(events.length).toBeGreaterThanOrEqual(1);
    for (const e of events) expect(e).toMatchObject({ type: 'stats', id });
    expect((await stateOf(root, id)).status).toBe('stopped');
  });

  it('ps, inspect, pause and events --stats of an unknown container fail naming it; inspect and pause of a stopped one fail', async () => {
    const root = makeRoot();
    const unknown = uniqueId('obs-unknown');
    for (const args of [['ps', unknown], ['inspect', unknown], ['pause', unknown], ['resume', unknown], ['events', '--stats', unknown]]) {
      const r = await tsrun(root, args);
      expect(r.exitCode, args.join(' ')).not.toBe(0);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`container ${unknown} does not exist`));
    }
    const id = uniqueId('obs-stopped');
    const bundle = scriptBundle('exit 0');
    expect((await runDetachedIn(root, bundle, id)).exitCode).toBe(0);
    await waitForStatus(root, id, 'stopped');
    const i = await tsrun(root, ['inspect', id]);
    expect(i.exitCode).not.toBe(0);
    expect(i.stderr).toMatch(new RegExp(`container ${id} is stopped`));
    const p = await tsrun(root, ['pause', id]);
    expect(p.exitCode).not.toBe(0);
    expect(p.stderr).toMatch(new RegExp(`cannot pause container ${id}: container not running \\(it is stopped\\)`));
  });


  it('run --trace (text, not a terminal): aligned lines with results, man page references, no escape codes', async () => {
    const root = makeRoot();
    const id = uniqueId('trace-text');
    const bundle = scriptBundle('echo traced');
    const r = await tsrun(root, ['run', '--trace', '--bundle', bundle.dir, id]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('traced\n');
    expect(r.stderr).not.toMatch(/\x1b/);
    const lines = r.stderr.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^trace step\s+\d+ ok\s+.*pivot_root.*pivot_root\(2\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^trace .*execve\(2\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^── namespaces ─+$/));
  });

  it('inspect (text): each namespace marked isolated or shared with the host, the cgroup, the mounts and capabilities', async () => {
    const { root, id, pid } = await running();
    const r = await tsrun(root, ['inspect', id]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^container ${id}: init pid ${pid} \\(host\\), running$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}pid {5}pid:\[\d+\]\s+isolated {2}\(host pid:\[\d+\]\)$/m);
    expect(r.stdout).toMatch(/^ {2}user {4}user:\[\d+\]\s+shared with the host {2}\(host user:\[\d+\]\)$/m);
    if (hasCgroup2) expect(r.stdout).toMatch(new RegExp(`^cgroup .*/${id}$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}\/proc\s+proc\s/m);
    const bounding = /^ {2}bounding\s+(.*)$/m.exec(r.stdout)?.[1];
    expect(bounding?.split(' ').sort()).toEqual(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
  });

});
