// The lifecycle table (src/state/lifecycle.ts) side by side with runc 1.1: the same operation on a
// container in the same status, with runc and with tsrun, must exit with the same status, and where
// a client parses the words (containerd: "container not running"; podman: "does not exist") both must
// say them. Each runtime has its own state root and bundle, with an absolute cgroupsPath (runc
// without one nests the container under the caller's cgroups).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { cannotRunContainers, containerTestHooks, type TestBundle } from '../../helpers/bundle.js';
import {
  cgroup2Mount, cleanupLifecycle, isDead, makeRoot, scriptBundle, trackCgroup, tsrun, tsrunToFiles, uniqueId, waitForDeath,
} from '../../helpers/lifecycle.js';

function runcMissing(): string | undefined {
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'runc is not installed';
  }
}

const skip = cannotRunContainers() ?? runcMissing();

interface Outcome { exitCode: number | undefined; stderr: string }

/** One runtime under test: its own state root, bundle and cgroup parent. */
interface Runtime {
  name: 'runc' | 'tsrun';
  cmd(args: string[]): Promise<Outcome>;
  /** create (stdio to files: the container keeps them open). */
  create(id: string): Promise<Outcome>;
  state(id: string): Promise<{ status: string; pid: number } | undefined>;
}

const runcRoots: string[] = [];
const runcIds: { root: string; id: string }[] = [];

function runc(bundleFor: (id: string) => TestBundle): Runtime {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-parity-runc-'));
  runcRoots.push(root);
  const cmd = async (args: string[]): Promise<Outcome> => {
    const r = await execa('runc', ['--root', root, ...args], { reject: false, stdin: 'ignore', timeout: 20_000 });
    return { exitCode: r.exitCode, stderr: String(r.stderr) };
  };
  return {
    name: 'runc', cmd,
    create: (id) => new Promise((resolve, reject) => {
      runcIds.push({ root, id });
      const bundle = bundleFor(id);
      const err = join(bundle.dir, 'runc-create.err');
      const fd = openSync(err, 'w');
      const child = spawn('runc', ['--root', root, 'create', '--bundle', bundle.dir, id], { stdio: ['ignore', 'ignore', fd] });
      closeSync(fd);
      child.on('error', reject);
      child.on('exit', (code) => resolve({ exitCode: code ?? undefined, stderr: readFileSync(err, 'utf8') }));
    }),
    state: async (id) => {
      const r = await cmd(['state', id]);
      return r.exitCode === 0 ? JSON.parse((await execa('runc', ['--root', root, 'state', id])).stdout) as { status: string; pid: number } : undefined;
    },
  };
}

function tsrunRuntime(bundleFor: (id: string) => TestBundle): Runtime {
  const root = makeRoot();
  const cmd = async (args: string[]): Promise<Outcome> => {
    const r = await tsrun(root, args);
    return { exitCode: r.exitCode, stderr: r.stderr };
  };
  return {
    name: 'tsrun', cmd,
    create: async (id) => {
      const bundle = bundleFor(id);
      const r = await tsrunToFiles(root, ['create', '--bundle', bundle.dir, id], bundle.dir);
      return { exitCode: r.exitCode ?? undefined, stderr: r.stderr() };
    },
    state: async (id) => {
      const r = await tsrun(root, ['state', id]);
      return r.exitCode === 0 ? JSON.parse(r.stdout) as { status: string; pid: number } : undefined;
    },
  };
}

/** Both runtimes, each with bundles whose process sleeps and whose cgroup is /tsrun-parity-<runtime>-<id>. */
function both(): Runtime[] {
  return (['runc', 'tsrun'] as const).map((name) => {
    const bundleFor = (id: string): TestBundle => scriptBundle('sleep 1000', (spec) => {
      spec.linux!.cgroupsPath = `/tsrun-parity-${name}-${id}`;
      spec.process!.terminal = false;
    });
    return name === 'runc' ? runc(bundleFor) : tsrunRuntime(bundleFor);
  });
}

async function waitStatus(rt: Runtime, id: string, status: string): Promise<void> {
  const end = Date.now() + 5_000;
  for (;;) {
    const s = await rt.state(id);
    if (s?.status === status) return;
    if (Date.now() > end) throw new Error(`${rt.name}: container ${id} is ${s?.status ?? 'gone'}, not ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Brings a fresh container of `rt` to `status` (created, running, paused or stopped). */
async function containerIn(rt: Runtime, status: 'created' | 'running' | 'paused' | 'stopped'): Promise<string> {
  const id = uniqueId(`par-${rt.name}`);
  const mount = cgroup2Mount();
  if (mount) trackCgroup(join(mount, `tsrun-parity-${rt.name}-${id}`));
  const c = await rt.create(id);
  if (c.exitCode !== 0) throw new Error(`${rt.name} create ${id}: exit ${c.exitCode}: ${c.stderr}`);
  if (status === 'created') return id;
  expect((await rt.cmd(['start', id])).exitCode).toBe(0);
  await waitStatus(rt, id, 'running');
  if (status === 'paused') {
    expect((await rt.cmd(['pause', id])).exitCode).toBe(0);
    await waitStatus(rt, id, 'paused');
  }
  if (status === 'stopped') {
    expect((await rt.cmd(['kill', id, 'KILL'])).exitCode).toBe(0);
    await waitStatus(rt, id, 'stopped');
  }
  return id;
}

describe.skipIf(skip !== undefined)(`lifecycle side by side with runc${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });
  afterEach(async () => {
    for (const { root, id } of runcIds.splice(0)) await execa('runc', ['--root', root, 'delete', '--force', id], { reject: false });
    for (const root of runcRoots.splice(0)) rmSync(root, { recursive: true, force: true });
    await cleanupLifecycle();
  });

  it.each<[string, 'created' | 'running' | 'paused' | 'stopped', string[], number, string | undefined]>([
    // containerd's shim matches these words: a kill of an exited task is then "not found", not an error.
    ['kill of a stopped container', 'stopped', ['kill'], 1, 'container not running'],
    ['kill KILL of a stopped container', 'stopped', ['kill', 'KILL'], 1, 'container not running'],
    ['kill --all of a stopped container', 'stopped', ['kill', '--all', 'KILL'], 0, undefined],
    ['kill --all (TERM) of a stopped container', 'stopped', ['kill', '--all'], 0, undefined],
    ['start of a stopped container', 'stopped', ['start'], 1, 'cannot start a container that has stopped'],
    ['start of a running container', 'running', ['start'], 1, 'cannot start an already running container'],
    ['start of a paused container', 'paused', ['start'], 1, 'cannot start a container in the paused state'],
    ['pause of a paused container', 'paused', ['pause'], 1, 'container not running'],
    ['pause of a stopped container', 'stopped', ['pause'], 1, 'container not running'],
    ['resume of a running container', 'running', ['resume'], 1, 'container not paused'],
    ['delete of a running container', 'running', ['delete'], 1, 'that is not stopped: running'],
    ['delete of a paused container', 'paused', ['delete'], 1, 'that is not stopped: paused'],
    ['exec in a stopped container', 'stopped', ['exec', '{id}', 'true'], 255, 'cannot exec in a stopped container'],
    ['exec in a paused container', 'paused', ['exec', '{id}', 'true'], 255, 'cannot exec in a paused container'],
    ['kill of a paused container (SIGKILL)', 'paused', ['kill', 'KILL'], 0, undefined],
    ['pause of a created container', 'created', ['pause'], 0, undefined],
  ])('%s: the same exit status and words as runc', async (_what, status, args, exitCode, words) => {
    for (const rt of both()) {
      const id = await containerIn(rt, status);
      const argv = withId(args, id);
      const r = await rt.cmd(argv);
      expect({ runtime: rt.name, exitCode: r.exitCode }).toEqual({ runtime: rt.name, exitCode });
      if (words) expect(r.stderr).toContain(words);
    }
  });

  it('delete without --force of a created container kills it and deletes it, as runc does (exit 0; its init is gone)', async () => {
    for (const rt of both()) {
      const id = await containerIn(rt, 'created');
      const init = (await rt.state(id))!.pid;
      const r = await rt.cmd(['delete', id]);
      expect({ runtime: rt.name, exitCode: r.exitCode, stderr: r.stderr }).toEqual({ runtime: rt.name, exitCode: 0, stderr: '' });
      expect(await waitForDeath(init)).not.toMatch(/^alive/);
      const after = await rt.cmd(['state', id]);
      expect(after.exitCode).toBe(1);
      expect(after.stderr).toContain('does not exist');
      const mount = cgroup2Mount();
      if (mount) expect(existsSync(join(mount, `tsrun-parity-${rt.name}-${id}`))).toBe(false);
    }
  });

  it('kill --all of a stopped container signals what is left in its cgroup (a process the init left behind without a PID namespace)', async () => {
    const root = makeRoot();
    const id = uniqueId('par-leftover');
    const bundle = scriptBundle('sleep 1000 & echo $! > /child.pid; exec sleep 1000', (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'pid');
    });
    const created = await tsrunToFiles(root, ['create', '--bundle', bundle.dir, id], bundle.dir);
    expect(created.exitCode).toBe(0);
    expect((await tsrun(root, ['start', id])).exitCode).toBe(0);
    const init = JSON.parse((await tsrun(root, ['state', id])).stdout).pid as number;
    const childFile = join(bundle.rootfs, 'child.pid');
    const end = Date.now() + 5_000;
    while (!existsSync(childFile) || readFileSync(childFile, 'utf8').trim() === '') {
      if (Date.now() > end) throw new Error('the container did not write /child.pid');
      await new Promise((r) => setTimeout(r, 20));
    }
    // The child's pid as the host sees it: the container shares the host's PID namespace.
    const child = Number(readFileSync(childFile, 'utf8').trim());
    process.kill(init, 'SIGKILL');
    await waitForDeath(init);
    expect(JSON.parse((await tsrun(root, ['state', id])).stdout).status).toBe('stopped');
    expect(isDead(child)).toBe(false);
    const r = await tsrun(root, ['kill', '--all', id, 'KILL']);
    expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(await waitForDeath(child)).not.toMatch(/^alive/);
  });
});

/** `OP [OPTIONS] ID [SIGNAL]`, or `{id}` replaced where the arguments name it (exec ID CMD). */
function withId(args: string[], id: string): string[] {
  if (args.includes('{id}')) return args.map((a) => (a === '{id}' ? id : a));
  const [op, ...rest] = args;
  return [op!, ...rest.filter((a) => a.startsWith('-')), id, ...rest.filter((a) => !a.startsWith('-'))];
}
