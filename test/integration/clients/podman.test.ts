// podman (Debian 12's 4.3, through conmon) with tsrun and with runc as its runtime, side by side, on
// what issue 16 asks of clients beyond the everyday lifecycle (test/integration/podman/ has that):
//  - podman's defaults: containers.conf's pids_limit 2048 is left as podman ships it (the podman test
//    there turns it off); on this hybrid host tsrun drops that default limit with a warning, runc
//    writes it to v1;
//  - --preserve-fds N on run and exec: conmon passes `--preserve-fds N` to create and exec;
//  - --network none: lo is up inside, as runc brings it up (podman sets up nothing in that namespace);
//  - podman update: conmon-less, podman calls the runtime's `update --resources FILE`; on this host a
//    memory or cpu limit is refused with create's message (v2 lacks the controllers), which podman
//    passes on; runc applies it to v1. Real limits through podman update are the VM lane's.
// Flags every run needs here, whatever the runtime: --cgroup-manager cgroupfs (no systemd as PID 1),
// --network none (no netavark/CNI), --cgroups no-conmon, ulimits this sandbox allows. podman keeps
// everything in a temporary directory; tsrun's state is in /run/tsrun (podman passes no --root).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Options } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, SAMPLE_ROOTFS, cannotRunContainers, mountPointsUnder } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';

/** The runtime podman is given (TSRUN_PODMAN_RUNTIME: another build, e.g. to see these fail on an older one). */
const TSRUN = process.env.TSRUN_PODMAN_RUNTIME ?? join(REPO, 'bin/tsrun');
const IMAGE = 'localhost/tsrun-it-clients-busybox';
const RUN_FLAGS = ['--network', 'none', '--cgroups', 'no-conmon', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
const RUNTIMES = spawnSync('runc', ['--version']).status === 0 ? ['tsrun', 'runc'] as const : ['tsrun'] as const;
type Runtime = 'tsrun' | 'runc';

function podmanMissing(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v podman && command -v conmon']).status !== 0) return 'podman or conmon is not installed (Debian packages: podman conmon)';
  if (!existsSync(TSRUN)) return `${TSRUN} missing: run \`make build\``;
  if (!existsSync(join(SAMPLE_ROOTFS, 'bin'))) return 'sample rootfs missing: run `make samples`';
  return undefined;
}
const skip = cannotRunContainers() ?? podmanMissing();

interface Result { exitCode: number | undefined; stdout: string; stderr: string }

/** tsrun's warning for podman's default pids limit (see the first test), which conmon may pass on. */
const PIDS_DEFAULT_WARNING = /^tsrun: warning: linux\.resources\.pids\.limit not applied: a pids limit of 2048 is podman's and buildah's default[^\n]*\n?/;
const otherThanDefaultWarning = (stderr: string): string => stderr.replace(PIDS_DEFAULT_WARNING, '');

describe.skipIf(skip !== undefined)(`podman with tsrun, side by side with runc${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let dir: string;
  const cg2 = cgroup2Mount();
  const parentExisted = cg2 !== undefined && existsSync(join(cg2, 'libpod_parent'));

  /** podman with runtime `rt` (through a wrapper that logs its argv to calls-<rt>.log), fd 3 given as `fd3`. */
  const podman = async (rt: Runtime, args: string[], opts: { fd3?: number; input?: string } = {}): Promise<Result> => {
    const r = await execa('podman', [
      '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'), '--network-config-dir', join(dir, 'networks'),
      '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', join(dir, rt), ...args,
    ], {
      reject: false, timeout: 90_000, killSignal: 'SIGKILL', env: { ...process.env as Record<string, string>, CONTAINERS_CONF: join(dir, 'containers.conf') },
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(opts.fd3 !== undefined ? [opts.fd3] : [])],
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    } as Options);
    return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  };
  const calls = (rt: Runtime): string[] => {
    const lines = readFileSync(join(dir, `calls-${rt}.log`), 'utf8').split('\n').filter(Boolean);
    writeFileSync(join(dir, `calls-${rt}.log`), '');
    return lines;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsrun-it-clients-podman-'));
    for (const rt of ['tsrun', 'runc'] as const) {
      writeFileSync(join(dir, rt), `#!/bin/sh\necho "$*" >> '${join(dir, `calls-${rt}.log`)}'\nexec '${rt === 'tsrun' ? TSRUN : 'runc'}' "$@"\n`);
      chmodSync(join(dir, rt), 0o755);
      writeFileSync(join(dir, `calls-${rt}.log`), '');
    }
    // podman's own defaults (pids_limit 2048…): only the events logger is set, to keep journald out.
    writeFileSync(join(dir, 'containers.conf'), '[engine]\nevents_logger = "file"\n');
    execFileSync('tar', ['-C', SAMPLE_ROOTFS, '-cf', join(dir, 'rootfs.tar'), '.']);
    const imported = await podman('tsrun', ['import', '-q', join(dir, 'rootfs.tar'), IMAGE]);
    expect(imported.exitCode, imported.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (dir === undefined) return;
    for (const rt of RUNTIMES) await podman(rt, ['rm', '-af', '-t', '0']);
    await podman('tsrun', ['rmi', '-af']);
    for (const m of mountPointsUnder(dir).reverse()) {
      try { execFileSync('umount', [m]); } catch { /* the last test reports it */ }
    }
    if (cg2 !== undefined && !parentExisted) {
      try { rmdirSync(join(cg2, 'libpod_parent')); } catch { /* absent, or another podman's */ }
    }
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it.each(RUNTIMES)('%s: podman\'s default pids limit (2048) does not stop a container', async (rt) => {
    const r = await podman(rt, ['run', '--rm', ...RUN_FLAGS, IMAGE, 'echo', 'hi']);
    expect(r.stdout).toBe('hi');
    expect(r.exitCode).toBe(0);
    // tsrun says on stderr what it did not apply (runc applies it to v1); conmon passes that on only
    // when it reads it before the container has ended, so podman shows it or not.
    if (rt === 'runc') expect(r.stderr).toBe('');
    else expect(otherThanDefaultWarning(r.stderr)).toBe('');
  }, 120_000);

  it.each(RUNTIMES)('%s: run --preserve-fds 1 and exec --preserve-fds 1: the container writes to podman\'s fd 3', async (rt) => {
    const out = join(dir, `fd3-${rt}`);
    writeFileSync(out, '');
    const fd = openSync(out, 'a');
    try {
      const run = await podman(rt, ['run', '--rm', '--preserve-fds', '1', ...RUN_FLAGS, IMAGE, 'sh', '-c', 'echo run-wrote-fd3 >&3'], { fd3: fd });
      expect(otherThanDefaultWarning(run.stderr)).toBe('');
      expect(run.exitCode).toBe(0);
      const started = await podman(rt, ['run', '-d', ...RUN_FLAGS, IMAGE, 'sleep', '1000']);
      expect(started.exitCode, started.stderr).toBe(0);
      const id = started.stdout.trim();
      calls(rt);
      const exec = await podman(rt, ['exec', '--preserve-fds', '1', id, 'sh', '-c', 'echo exec-wrote-fd3 >&3'], { fd3: fd });
      expect(otherThanDefaultWarning(exec.stderr)).toBe('');
      expect(exec.exitCode).toBe(0);
      const execCalls = calls(rt).filter((c) => /(^| )exec /.test(c));
      expect(execCalls, execCalls.join('\n')).toEqual([expect.stringMatching(/--preserve-fds[ =]1 /)]);
    } finally {
      await podman(rt, ['rm', '-f', '-t', '0', '-a']);
      closeSync(fd);
    }
    expect(readFileSync(out, 'utf8')).toBe('run-wrote-fd3\nexec-wrote-fd3\n');
  }, 180_000);

  it.each(RUNTIMES)('%s: --network none: the container\'s lo is up (flags 0x9: IFF_UP|IFF_LOOPBACK), as podman users get from runc', async (rt) => {
    // podman asks for a new network namespace and sets up nothing in it: the runtime brings lo up.
    const r = await podman(rt, ['run', '--rm', ...RUN_FLAGS, IMAGE, 'cat', '/sys/class/net/lo/flags']);
    expect(otherThanDefaultWarning(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('0x9');
  }, 120_000);

  it.each(RUNTIMES)('%s: podman update calls the runtime\'s update with the resources in a file', async (rt) => {
    const started = await podman(rt, ['run', '-d', ...RUN_FLAGS, IMAGE, 'sleep', '1000']);
    expect(started.exitCode, started.stderr).toBe(0);
    const id = started.stdout.trim();
    try {
      calls(rt);
      const r = await podman(rt, ['update', '--memory', '64m', id]);
      const update = calls(rt).filter((c) => c.startsWith('update '));
      expect(update).toEqual([expect.stringMatching(new RegExp(`^update --resources[ =]\\S+ ${id}$`))]);
      if (rt === 'runc') {
        // runc on this hybrid host writes to the v1 memory controller.
        expect(r.stderr).toBe('');
        expect(r.exitCode).toBe(0);
      } else {
        // tsrun drives v2 only, which has no memory controller here: create's refusal, through podman.
        expect(r.exitCode).not.toBe(0);
        expect(r.stderr).toMatch(/linux\.resources\.memory\.limit: needs the cgroup v2 "memory" controller, but this host's v2 hierarchy \(\S+\) has only: hugetlb/);
        const state = JSON.parse(readFileSync(join('/run/tsrun', id, 'state.json'), 'utf8')) as { config: { linux: { resources?: { memory?: unknown } } } };
        expect(state.config.linux.resources?.memory).toBeUndefined();
        expect((await podman(rt, ['inspect', '-f', '{{.State.Status}}', id])).stdout).toBe('running');
      }
    } finally {
      await podman(rt, ['rm', '-f', '-t', '0', id]);
    }
  }, 180_000);

  it('leaves nothing: no podman container, no mount under its directory', async () => {
    for (const rt of RUNTIMES) expect((await podman(rt, ['ps', '-aq'])).stdout).toBe('');
    expect(mountPointsUnder(dir)).toEqual([]);
  }, 60_000);
});
