// `tsrun exec` into a `run -d` container: the exec'd process joins the init's namespaces (pid, uts,
// mount, ipc, net) and its cgroup; exit codes, --user/--env/--cwd, --process, -d with --pid-file,
// stdin, and the errors (missing program, stopped or unknown container).
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { constants } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, catchesSignal, containerTestHooks, poll, REPO, settled, TSRUN, type TestBundle } from '../../helpers/bundle.js';
import {
  cleanupLifecycle, makeRoot, procState, runDetachedIn, scriptBundle, stateOf, tsrun, tsrunToFiles, uniqueId, v2CgroupOf,
  waitForDeath, waitForFile, waitForStatus,
} from '../../helpers/lifecycle.js';

const skip = cannotRunContainers();
const LAUNCHER = join(REPO, 'bin/tsrun');
const NS = ['pid', 'mnt', 'uts', 'ipc', 'net'] as const;

describe.skipIf(skip !== undefined)(`ops: exec${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(cleanupLifecycle);

  /** A running container (sleeping init) with a recognisable hostname and a marker file in its rootfs. */
  async function running(): Promise<{ root: string; id: string; pid: number; bundle: TestBundle }> {
    const root = makeRoot();
    const id = uniqueId('exec');
    const bundle = scriptBundle('sleep 100000 & wait', (spec) => { spec.hostname = 'ops-exec-host'; });
    writeFileSync(join(bundle.rootfs, 'only-in-this-rootfs'), `${bundle.marker}\n`);
    const r = await runDetachedIn(root, bundle, id);
    if (r.exitCode !== 0) throw new Error(`run -d exited ${r.exitCode}: ${r.stderr()}`);
    const st = await stateOf(root, id);
    expect(st.status).toBe('running');
    return { root, id, pid: st.pid, bundle };
  }

  it('joins the init\'s pid, uts, mount, ipc and net namespaces and its cgroup; the exit code passes through', async () => {
    const { root, id, pid, bundle } = await running();
    const script = [
      'echo "pid=$$"',
      'echo "host=$(hostname)"',
      ...NS.map((n) => `echo "ns-${n}=$(readlink /proc/self/ns/${n})"`),
      'echo "cg=$(grep ^0:: /proc/self/cgroup)"',
      'echo "file=$(cat /only-in-this-rootfs)"',
      'ps',
      'exit 7',
    ].join('; ');
    const r = await tsrun(root, ['exec', id, 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(7);
    const out = r.stdout;
    const get = (k: string): string | undefined => new RegExp(`^${k}=(.*)$`, 'm').exec(out)?.[1];
    // Inside the container's PID namespace, but not its init.
    expect(get('pid')).toMatch(/^[0-9]+$/);
    expect(Number(get('pid'))).toBeGreaterThan(1);
    // `ps` (reading the container's /proc) shows the init as PID 1, with the marker in its argv.
    expect(out).toMatch(new RegExp(`^\\s*1\\s+root\\s+sh -c .*${bundle.marker}`, 'm'));
    expect(get('host')).toBe('ops-exec-host');
    for (const n of NS) {
      expect(get(`ns-${n}`), `namespace ${n}`).toBe(readlinkSync(`/proc/${pid}/ns/${n}`));
      expect(get(`ns-${n}`), `namespace ${n} differs from the host's`).not.toBe(readlinkSync(`/proc/self/ns/${n}`));
    }
    // The container's / (its rootfs), not the host's.
    expect(get('file')).toBe(bundle.marker);
    // The init's cgroup.
    const initCg = v2CgroupOf(pid);
    if (initCg !== undefined) {
      expect(initCg).toMatch(new RegExp(`/${id}$`));
      expect(get('cg')).toBe(`0::${initCg}`);
    }
    // The container keeps running after the exec'd process exited.
    expect((await stateOf(root, id)).status).toBe('running');
  });

  it('--user 1000:1000, --env A=1 and --cwd /tmp apply to the exec\'d process', async () => {
    const { root, id } = await running();
    const r = await tsrun(root, ['exec', '--user', '1000:1000', '--env', 'A=1', '--cwd', '/tmp', id, 'sh', '-c', 'echo "id=$(id -u):$(id -g)"; echo "A=$A"; echo "cwd=$(pwd)"']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('id=1000:1000\nA=1\ncwd=/tmp\n');
  });

  it('--process process.json runs that runtime-spec process (args, env, cwd, user)', async () => {
    const { root, id, bundle } = await running();
    const processFile = join(bundle.dir, 'process.json');
    writeFileSync(processFile, JSON.stringify({
      terminal: false,
      user: { uid: 2, gid: 3 },
      args: ['sh', '-c', 'echo "from-process $FOO $(id -u) $(id -g) $(pwd)"; exit 3'],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=bar'],
      cwd: '/etc',
    }));
    const r = await tsrun(root, ['exec', '--process', processFile, id]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from-process bar 2 3 /etc\n');
    expect(r.exitCode).toBe(3);
  });

  it('stdin passes through (echo hi | tsrun exec ID cat)', async () => {
    const { root, id } = await running();
    const r = await tsrun(root, ['exec', id, 'cat'], { input: 'hi\nthere\n' });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('hi\nthere\n');
  });

  it('-d returns at once and --pid-file holds the host pid of the process, which runs in the container\'s cgroup', async () => {
    const { root, id, pid, bundle } = await running();
    const pidFile = join(bundle.dir, 'exec.pid');
    const r = await tsrunToFiles(root, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '4321'], bundle.dir);
    expect(r.stderr()).toBe('');
    expect(r.exitCode).toBe(0);
    // At once, not after the 4321 s of the sleep: tsrunToFiles fails a tsrun that has not exited within 20 s.
    const text = readFileSync(pidFile, 'utf8');
    expect(text).toMatch(/^[1-9][0-9]*\n?$/);
    const execPid = Number(text.trim());
    expect(execPid).not.toBe(pid);
    expect(procState(execPid)).toMatch(/^alive/);
    expect(readFileSync(`/proc/${execPid}/cmdline`, 'utf8')).toBe('sleep\x004321\x00');
    expect(readlinkSync(`/proc/${execPid}/ns/pid`)).toBe(readlinkSync(`/proc/${pid}/ns/pid`));
    const cg = v2CgroupOf(pid);
    if (cg !== undefined) expect(v2CgroupOf(execPid)).toBe(cg);
    const ps = await tsrun(root, ['ps', '--format', 'json', id]);
    expect(ps.exitCode).toBe(0);
    expect(JSON.parse(ps.stdout)).toEqual(expect.arrayContaining([pid, execPid]));
    // Killing the container ends the detached process too.
    const del = await tsrun(root, ['delete', '--force', id]);
    expect(del.exitCode).toBe(0);
    expect(await waitForDeath(execPid)).not.toMatch(/^alive/);
  });

  it('a missing program fails non-zero with a message naming it', async () => {
    const { root, id } = await running();
    const r = await tsrun(root, ['exec', id, 'no-such-program-xyz', 'arg']);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-program-xyz/);
    expect(r.stderr).toMatch(/ENOENT/);
    expect((await stateOf(root, id)).status).toBe('running');
  });

  it('exec into a stopped container and into an unknown one is an error', async () => {
    const root = makeRoot();
    const id = uniqueId('exec-stopped');
    const bundle = scriptBundle('exit 0');
    const r = await runDetachedIn(root, bundle, id);
    expect(r.exitCode).toBe(0);
    await waitForStatus(root, id, 'stopped');
    const stopped = await tsrun(root, ['exec', id, 'true']);
    expect(stopped.exitCode).not.toBe(0);
    expect(stopped.stdout).toBe('');
    expect(stopped.stderr).toMatch(new RegExp(`container ${id}: cannot exec in a stopped container`));

    const unknown = uniqueId('exec-unknown');
    const u = await tsrun(root, ['exec', unknown, 'true']);
    expect(u.exitCode).not.toBe(0);
    expect(u.stdout).toBe('');
    expect(u.stderr).toMatch(new RegExp(`container ${unknown} does not exist`));
  });

  it('a process killed by a signal exits 128+N; a missing --cwd is named; a paused container is refused', async () => {
    const { root, id } = await running();
    const killed = await tsrun(root, ['exec', id, 'sh', '-c', 'kill -9 $$']);
    expect(killed.exitCode).toBe(137);
    const cwd = await tsrun(root, ['exec', '--cwd', '/no-such-dir-xyz', id, 'true']);
    expect(cwd.exitCode).not.toBe(0);
    expect(cwd.stderr).toMatch(/\/no-such-dir-xyz/);
    expect(cwd.stderr).toMatch(/ENOENT/);
    const paused = await tsrun(root, ['pause', id]);
    if (paused.exitCode === 0) {
      const r = await tsrun(root, ['exec', id, 'true']);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(`container ${id}: cannot exec in a paused container`));
      expect((await tsrun(root, ['resume', id])).exitCode).toBe(0);
    }
  });

  // bin/tsrun is the launcher users run: it starts node from the V8 startup snapshot
  // (dist/tsrun.blob). Code in the snapshot cannot use a dynamic import().
  it.skipIf(!existsSync(LAUNCHER))('through the bin/tsrun launcher (V8 snapshot): exec -d --pid-file succeeds and writes the pid', async () => {
    const { root, id, pid, bundle } = await running();
    const pidFile = join(bundle.dir, 'launcher-exec.pid');
    // stdio to files: the detached process keeps them (a pipe would never reach EOF).
    const errFile = join(bundle.dir, 'launcher.err');
    const errFd = openSync(errFile, 'w');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(LAUNCHER, ['--root', root, 'exec', '-d', '--pid-file', pidFile, id, 'sleep', '7777'], { cwd: REPO, stdio: ['ignore', 'ignore', errFd] });
      closeSync(errFd);
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('bin/tsrun exec -d did not exit within 15 s')); }, 15_000);
      child.on('error', (e) => { clearTimeout(timer); reject(e); });
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    const r = { exitCode: code, stderr: readFileSync(errFile, 'utf8') };
    // Whatever happened, the process tsrun started must be accounted for (ps lists it while it runs).
    const ps = await tsrun(root, ['ps', '--format', 'json', id]);
    const pids = JSON.parse(ps.stdout) as number[];
    const others = pids.filter((p) => p !== pid && readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\x007777\x00');
    expect(String(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    expect(existsSync(pidFile)).toBe(true);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(others[0]));
  });


  it('a user-namespaced container (root = 100000 outside): exec joins the user namespace first and is root inside', async () => {
    const root = makeRoot();
    const id = uniqueId('exec-userns');
    const bundle = scriptBundle('sleep 100000 & wait', (spec, b) => {
      execFileSync('chown', ['-R', '-h', '100000:100000', b.rootfs]);
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    const run = await runDetachedIn(root, bundle, id);
    expect(run.stderr()).toBe('');
    expect(run.exitCode).toBe(0);
    const { pid } = await stateOf(root, id);
    const r = await tsrun(root, ['exec', id, 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map; readlink /proc/self/ns/user']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('0');
    expect(lines[1]).toBe('0');
    expect(lines[2]!.trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    expect(lines[3]).toBe(readlinkSync(`/proc/${pid}/ns/user`));
    expect(lines[3]).not.toBe(readlinkSync('/proc/self/ns/user'));
    // Seen from the host, the exec'd process runs as 100000 + uid.
    const u = await tsrunToFiles(root, ['exec', '-d', '--user', '1000:1000', id, 'sleep', '5555'], bundle.dir);
    expect(u.stderr()).toBe('');
    expect(u.exitCode).toBe(0);
    const ps = JSON.parse((await tsrun(root, ['ps', '--format', 'json', id])).stdout) as number[];
    const sleeper = ps.find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\x005555\x00');
    expect(sleeper).toBeDefined();
    expect(readFileSync(`/proc/${sleeper}/status`, 'utf8')).toMatch(/^Uid:\s+101000\s+101000\s+101000\s+101000$/m);
  });

  it('tsrun exec forwards SIGTERM to the process; its trap\'s exit code comes back', async () => {
    const { root, id, bundle } = await running();
    const outFile = join(bundle.dir, 'fwd.out');
    const out = openSync(outFile, 'w');
    const child = spawn('node', [TSRUN, '--root', root, 'exec', id, 'sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; while :; do sleep 0.1; done'], { cwd: REPO, stdio: ['ignore', out, out] });
    closeSync(out);
    const exited = new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    await waitForFile(outFile, 'ready\n', 10_000);
    // exec now installs its forwarding before its set-up (the test below); this wait stays so that the
    // test checks the forwarding, whatever the order: tsrun catches SIGUSR2 only to forward it (all
    // forwarded signals get their handlers at once, src/process/signals.ts).
    await poll(() => (catchesSignal(child.pid!, constants.signals.SIGUSR2) ? true : undefined), 5_000, 'tsrun exec to forward signals');
    child.kill('SIGTERM');
    const code = await exited;
    expect(readFileSync(outFile, 'utf8')).toBe('ready\ngot-term\n');
    expect(code).toBe(5);
  });


  it('a SIGTERM that reaches tsrun exec during its set-up is held and passed to the process once it exists (as run does)', async () => {
    const { root, id, bundle } = await running();
    const outFile = join(bundle.dir, 'early.out');
    const out = openSync(outFile, 'w');
    // Set-up made long on purpose: another process holds the container's lock, which exec waits for.
    const holder = spawn('flock', [join(root, id), 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const child = spawn('node', [TSRUN, '--root', root, 'exec', id, 'sh', '-c', 'echo started; sleep 424242'], { cwd: REPO, stdio: ['ignore', out, out] });
    closeSync(out);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
    // Its forwarding handlers in place: from here a SIGTERM is tsrun's to handle, not the default death.
    await poll(() => (catchesSignal(child.pid!, constants.signals.SIGUSR2) ? true : undefined), 10_000, 'tsrun exec to catch signals');
    child.kill('SIGTERM');
    holder.stdin!.end();
    const end = await exited;
    // The process got the held SIGTERM (143: killed by it, as the shell reports) and nothing of it stays.
    expect(end).toEqual({ code: 143, signal: null });
    const left = await settled(() => execFileSync('node', [TSRUN, '--root', root, 'ps', id], { cwd: REPO, encoding: 'utf8' }).includes('424242'), (v) => !v);
    expect(left).toBe(false);
  });

  // The order of linux.namespaces is the config's: exec must join them all whatever it is. Once the
  // mount namespace is joined, /proc is the container's (its own PID namespace), where the init's
  // host pid does not exist: a /proc/<host pid>/ns/* path opened after that setns is not found.
  type Namespaces = NonNullable<NonNullable<Spec['linux']>['namespaces']>;
  it.each([
    ['cgroup listed after mount', (ns: Namespaces): Namespaces => [...ns, { type: 'cgroup' }]],
    ['mount listed first', (ns: Namespaces): Namespaces => [...ns.filter((n) => n.type === 'mount'), ...ns.filter((n) => n.type !== 'mount')]],
  ] as const)('exec joins every namespace whatever their order in the config (%s)', async (_what, reorder) => {
    const root = makeRoot();
    const id = uniqueId('exec-nsorder');
    const bundle = scriptBundle('sleep 100000 & wait', (spec) => {
      spec.linux!.namespaces = reorder(spec.linux!.namespaces!);
    });
    const run = await runDetachedIn(root, bundle, id);
    expect(run.stderr()).toBe('');
    expect(run.exitCode).toBe(0);
    const { pid } = await stateOf(root, id);
    const types = bundle.spec.linux!.namespaces!.map((n) => n.type);
    const files = types.map((t) => ({ mount: 'mnt', network: 'net' } as Record<string, string>)[t] ?? t);
    const r = await tsrun(root, ['exec', id, 'sh', '-c', files.map((f) => `readlink /proc/self/ns/${f}`).join('; ')]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(files.map((f) => readlinkSync(`/proc/${pid}/ns/${f}`)));
  });


  it('exec -d with an unwritable --pid-file fails with a message (no stack trace) and leaves no process behind', async () => {
    const { root, id, pid, bundle } = await running();
    const before = JSON.parse((await tsrun(root, ['ps', '--format', 'json', id])).stdout) as number[];
    const pidFile = join(bundle.dir, 'no-such-dir', 'exec.pid');
    const r = await tsrunToFiles(root, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '3333'], bundle.dir);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr()).toMatch(/pid file/);
    expect(r.stderr()).toContain(pidFile);
    expect(r.stderr()).not.toMatch(/\n\s+at /); // a TsrunError message, not a Node stack trace
    // A process started before the pid file failed is killed, and leaves the cgroup once it has died:
    // poll (a fixed 300 ms wait was a bet), and name what is left. Its /proc entry may be gone by then.
    const cmdline = (p: number): string => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '); } catch { return '(exited)'; } };
    const ps = async (): Promise<number[]> => JSON.parse((await tsrun(root, ['ps', '--format', 'json', id])).stdout) as number[];
    const after = await settled(ps, (now) => now.every((p) => before.includes(p)));
    expect(after.filter((p) => !before.includes(p)).map((p) => `${p}: ${cmdline(p)}`)).toEqual([]);
    expect(after).toContain(pid);
  });


  it('--env KEY=V replaces the config\'s KEY in the environment the program is executed with (no duplicate)', async () => {
    const { root, id } = await running();
    // cat is the exec'd program itself: /proc/self/environ is exactly its execve environment (a shell
    // would hide duplicates, but getenv(3) in a C program returns the first TERM, the config's).
    const r = await tsrun(root, ['exec', '--env', 'TERM=dumb', '--env', 'NEW=1', id, 'cat', '/proc/self/environ']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const env = r.stdout.split('\0').filter(Boolean);
    expect(env.filter((e) => e.startsWith('TERM='))).toEqual(['TERM=dumb']);
    expect(env).toContain('NEW=1');
    expect(env.filter((e) => e.startsWith('PATH='))).toHaveLength(1);
  });

  it('--user UID without a gid keeps the config\'s gid (runc: only UID:GID sets the gid)', async () => {
    const { root, id } = await running();
    // The sample's process.user is 0:0.
    const r = await tsrun(root, ['exec', '--user', '1000', id, 'sh', '-c', 'echo "$(id -u):$(id -g)"']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('1000:0\n');
  });


  // Before `start`, the container's init is still a copy of tsrun: /proc/1/exe is the host's node
  // binary. Like runc's init, it must be non-dumpable so that nothing in the container (an exec'd
  // process, a startContainer hook) can open it, nor its fds or memory (the CVE-2019-5736 class).
  // Listing /proc/1/fd is plain directory permission (root may list root's dir, as with runc); what
  // must fail is following the links, which is how an fd or the binary would be reached.
  it('in a created container, an exec\'d process cannot open the init\'s /proc/1/exe (the host\'s node) nor follow its fd links', async () => {
    const root = makeRoot();
    const id = uniqueId('exec-created');
    const bundle = scriptBundle('sleep 100000 & wait');
    const c = await tsrunToFiles(root, ['create', '--bundle', bundle.dir, id], bundle.dir);
    expect(c.exitCode).toBe(0);
    expect((await stateOf(root, id)).status).toBe('created');
    const r = await tsrun(root, ['exec', id, 'sh', '-c', 'echo "exe=$(readlink /proc/1/exe 2>/dev/null)"; if head -c 4 /proc/1/exe >/dev/null 2>&1; then echo read-exe=yes; else echo read-exe=no; fi; if readlink /proc/1/fd/0 >/dev/null 2>&1 || head -c 1 /proc/1/fd/0 >/dev/null 2>&1; then echo fd-links=yes; else echo fd-links=no; fi']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain(`exe=${process.execPath}`);
    expect(r.stdout).toContain('read-exe=no\n');
    expect(r.stdout).toContain('fd-links=no\n');
  });


  it('exec --process with a missing file: an error message naming the file, not a stack trace', async () => {
    const { root, id, bundle } = await running();
    const missing = join(bundle.dir, 'no-such-process.json');
    const m = await tsrun(root, ['exec', '--process', missing, id]);
    expect(m.exitCode).not.toBe(0);
    expect(m.stderr).toContain(missing);
    expect(m.stderr).not.toMatch(/\n\s+at /);
  });

  it('exec --process with a file that is not JSON: an error message naming the file, not a stack trace', async () => {
    const { root, id, bundle } = await running();
    const invalid = join(bundle.dir, 'invalid-process.json');
    writeFileSync(invalid, '{not json');
    const i = await tsrun(root, ['exec', '--process', invalid, id]);
    expect(i.exitCode).not.toBe(0);
    expect(i.stderr).toContain(invalid);
    expect(i.stderr).not.toMatch(/\n\s+at /);
  });

  it('exec --cap with an unknown capability is refused (as runc), not silently ignored', async () => {
    const { root, id } = await running();
    const cap = await tsrun(root, ['exec', '--cap', 'CAP_NOPE', id, 'echo', 'ran']);
    expect(cap.stdout).toBe('');
    expect(cap.exitCode).not.toBe(0);
    expect(cap.stderr).toMatch(/CAP_NOPE/);
    expect(cap.stderr).not.toMatch(/\n\s+at /);
  });
});
