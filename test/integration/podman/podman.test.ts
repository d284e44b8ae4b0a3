// podman (Debian 12's 4.3, through conmon) with tsrun as its OCI runtime, on an image imported from a
// local archive: `run --rm … echo hi`, `run -d` + `exec` + `stop` + `rm`, the exact runtime calls
// podman/conmon make, and that nothing is left (no podman container, no tsrun state, no mount, no
// cgroup, no process). scripts/podman-smoke.sh runs the same steps by hand and explains every flag:
//   --cgroup-manager cgroupfs --network none   (no systemd, no netavark/CNI)
//   --cgroups no-conmon     podman's default would put conmon into the v1 hierarchies (libpod_parent/conmon)
//   pids_limit = 0          in a private containers.conf: podman otherwise writes linux.resources.pids
//                           (even `--pids-limit 0` gives {limit: 0}), which tsrun refuses on a hybrid host
//   --ulimit nofile/nproc   podman's default rlimits (1048576) need CAP_SYS_RESOURCE, absent in this sandbox
// podman keeps everything in a temporary directory (--root/--runroot/--tmpdir/--network-config-dir);
// tsrun keeps its state in /run/tsrun (podman does not pass --runtime-flag to the cleanup's delete).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, SAMPLE_ROOTFS, cannotRunContainers, mountPointsUnder } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';

/** The runtime podman is given: the launcher `command -v tsrun` finds once installed. */
const RUNTIME = process.env.TSRUN_PODMAN_RUNTIME ?? join(REPO, 'bin/tsrun');
const STATE_ROOT = '/run/tsrun';
const IMAGE = 'localhost/tsrun-it-busybox';
const ARCHIVE = join(REPO, 'rootfs-samples/build/busybox-layers.docker.tar');
const RUN_FLAGS = ['--network', 'none', '--cgroups', 'no-conmon', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function podmanMissing(): string | undefined {
  if (!onPath('podman')) return 'podman is not installed (Debian packages: podman conmon)';
  if (!onPath('conmon') && !existsSync('/usr/libexec/podman/conmon')) return 'conmon is not installed (Debian package: conmon)';
  if (!existsSync(RUNTIME)) return `${RUNTIME} missing: run \`make build\``;
  if (!existsSync(join(SAMPLE_ROOTFS, 'bin'))) return 'sample rootfs missing: run `make samples`';
  return undefined;
}

const skip = cannotRunContainers() ?? podmanMissing();

interface Result { exitCode: number | undefined; stdout: string; stderr: string }

describe.skipIf(skip !== undefined)(`podman --runtime tsrun${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let dir: string;
  let callsLog: string;
  let env: Record<string, string>;
  let globalFlags: string[];
  let cg2: string | undefined;
  let parentExisted = false;
  const ids: string[] = [];

  const podman = async (args: string[], opts: { input?: string; timeout?: number } = {}): Promise<Result> => {
    const r = await execa('podman', [...globalFlags, ...args], {
      reject: false, env, timeout: opts.timeout ?? 60_000, killSignal: 'SIGKILL',
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  };
  /** The runtime calls logged since the last call, ids and temporary paths made generic. */
  const takeCalls = (): string[] => {
    const lines = readFileSync(callsLog, 'utf8').split('\n').filter((l) => l.length > 0);
    writeFileSync(callsLog, '');
    return lines.map((l) => l.replaceAll(dir, '$T').replace(/[0-9a-f]{64}/g, 'ID').replace(/-process-\d+/, '-process-N').replace(/conmon-term\.\w+/, 'conmon-term.X'));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsrun-it-podman-'));
    callsLog = join(dir, 'calls.log');
    writeFileSync(callsLog, '');
    // A wrapper that only logs argv, then execs the runtime unchanged.
    const wrapper = join(dir, 'tsrun');
    writeFileSync(wrapper, `#!/bin/sh\n{ for a in "$@"; do printf '%s ' "$a"; done; echo; } >> '${callsLog}'\nexec '${RUNTIME}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeFileSync(join(dir, 'containers.conf'), '[containers]\npids_limit = 0\n[engine]\nevents_logger = "file"\n');
    env = { ...process.env as Record<string, string>, CONTAINERS_CONF: join(dir, 'containers.conf') };
    globalFlags = [
      '--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--tmpdir', join(dir, 'tmp'),
      '--network-config-dir', join(dir, 'networks'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file',
      '--runtime', wrapper,
    ];
    cg2 = cgroup2Mount();
    parentExisted = cg2 !== undefined && existsSync(join(cg2, 'libpod_parent'));
    execFileSync('tar', ['-C', SAMPLE_ROOTFS, '-cf', join(dir, 'rootfs.tar'), '.']);
    const imported = await podman(['import', '-q', join(dir, 'rootfs.tar'), IMAGE]);
    expect(imported.stderr).toBe('');
    expect(imported.exitCode).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (dir === undefined) return;
    await podman(['rm', '-af', '-t', '0']);
    await podman(['rmi', '-af']);
    for (const m of mountPointsUnder(dir).reverse()) {
      try { execFileSync('umount', [m]); } catch { /* reported by the test that checks mounts */ }
    }
    for (const id of ids) {
      if (existsSync(join(STATE_ROOT, id))) await execa(RUNTIME, ['delete', '--force', id], { reject: false });
    }
    // tsrun, like runc, leaves the parents of an absolute cgroupsPath: remove podman's if we made it.
    if (cg2 !== undefined && !parentExisted) {
      try { rmdirSync(join(cg2, 'libpod_parent')); } catch { /* absent, or busy with another podman's container */ }
    }
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('run --rm echo hi: prints hi; podman calls create --bundle --pid-file, start, delete --force', async () => {
    const cidfile = join(dir, 'cid-rm');
    takeCalls();
    const r = await podman(['run', '--rm', '--cidfile', cidfile, ...RUN_FLAGS, IMAGE, 'echo', 'hi']);
    if (existsSync(cidfile)) ids.push(readFileSync(cidfile, 'utf8').trim());
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hi');
    expect(r.exitCode).toBe(0);
    expect(takeCalls()).toEqual([
      'create --bundle $T/storage/overlay-containers/ID/userdata --pid-file $T/run/overlay-containers/ID/userdata/pidfile ID ',
      'start ID ',
      'delete --force ID ',
    ]);
  }, 90_000);

  it('run --rm: the seccomp profile podman passes is enforced (Seccomp: 2, filter mode)', async () => {
    const r = await podman(['run', '--rm', ...RUN_FLAGS, IMAGE, 'grep', '^Seccomp:', '/proc/self/status']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Seccomp:\s+2$/);
    expect(r.exitCode).toBe(0);
  }, 90_000);

  it('run --rm: the container\'s exit code is podman\'s', async () => {
    const r = await podman(['run', '--rm', ...RUN_FLAGS, IMAGE, 'sh', '-c', 'exit 7']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(7);
  }, 90_000);

  it.skipIf(!existsSync(ARCHIVE))('podman load of the sample docker archive: its Entrypoint, user and workdir apply', async () => {
    const loaded = await podman(['load', '-q', '-i', ARCHIVE]);
    expect(loaded.exitCode).toBe(0);
    const cidfile = join(dir, 'cid-layers');
    // Entrypoint ["/bin/sh", "-c"], User app, WorkingDir /home/app (rootfs-samples/image.sh).
    const r = await podman(['run', '--rm', '--cidfile', cidfile, ...RUN_FLAGS, 'busybox-layers', 'id -un; pwd']);
    if (existsSync(cidfile)) ids.push(readFileSync(cidfile, 'utf8').trim());
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('app\n/home/app');
    expect(r.exitCode).toBe(0);
  }, 90_000);

  it('run -d, exec (output, exit code, -i, -t, --user/--workdir/--env), stop, rm', async () => {
    takeCalls();
    const started = await podman(['run', '-d', '--name', 'tsrun-it-podman', ...RUN_FLAGS, IMAGE, 'sleep', '1000']);
    expect(started.stderr).toBe('');
    expect(started.exitCode).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    ids.push(id);
    try {
      await runDetachedChecks(id);
    } catch (err) {
      await podman(['rm', '-f', '-t', '0', id]); // so that the leftovers test judges cleanup, not this failure
      throw err;
    }
  }, 120_000);

  async function runDetachedChecks(id: string): Promise<void> {
    expect((await podman(['inspect', '-f', '{{.State.Status}}', id])).stdout).toBe('running');
    expect(takeCalls()).toEqual([
      'create --bundle $T/storage/overlay-containers/ID/userdata --pid-file $T/run/overlay-containers/ID/userdata/pidfile ID ',
      'start ID ',
    ]);

    const echo = await podman(['exec', id, 'echo', 'from-exec']);
    expect(echo.stderr).toBe('');
    expect(echo.stdout).toBe('from-exec');
    expect(echo.exitCode).toBe(0);
    // conmon runs every exec detached, with the process in a file and the pid in a file.
    expect(takeCalls()).toEqual([
      'exec --pid-file $T/storage/overlay-containers/ID/userdata/ID/exec_pid --process $T/storage/overlay-containers/ID/userdata/ID/exec-process-N --detach ID ',
    ]);

    expect((await podman(['exec', id, 'sh', '-c', 'exit 3'])).exitCode).toBe(3);
    const piped = await podman(['exec', '-i', id, 'cat'], { input: 'piped\n' });
    expect(piped.stdout).toBe('piped');
    expect(piped.exitCode).toBe(0);
    takeCalls();
    const tty = await podman(['exec', '-t', id, 'tty']);
    expect(tty.stdout.replace(/\r/g, '')).toBe('/dev/pts/0');
    expect(tty.exitCode).toBe(0);
    expect(takeCalls()).toEqual([
      'exec --pid-file $T/storage/overlay-containers/ID/userdata/ID/exec_pid --process $T/storage/overlay-containers/ID/userdata/ID/exec-process-N --detach --tty --console-socket /tmp/conmon-term.X ID ',
    ]);
    const user = await podman(['exec', '--user', '1000:1000', '--workdir', '/tmp', '-e', 'FOO=bar', id, 'sh', '-c', 'echo $(id -u):$(id -g) $PWD $FOO']);
    expect(user.stdout).toBe('1000:1000 /tmp bar');
    expect(user.exitCode).toBe(0);

    // sleep as pid 1 ignores TERM: podman sends TERM, waits -t, sends KILL, then deletes.
    takeCalls();
    const stopped = await podman(['stop', '-t', '1', id]);
    expect(stopped.exitCode).toBe(0);
    expect((await podman(['inspect', '-f', '{{.State.Status}}', id])).stdout).toBe('exited');
    const removed = await podman(['rm', id]);
    expect(removed.stderr).toBe('');
    expect(removed.exitCode).toBe(0);
    expect(takeCalls()).toEqual(['kill ID 15 ', 'kill ID 9 ', 'delete --force ID ']);
  }

  it('leaves nothing: no podman container, no tsrun state, no mount, no cgroup, no process', async () => {
    expect(ids.length).toBeGreaterThan(0);
    expect((await podman(['ps', '-aq'])).stdout).toBe('');
    expect(ids.filter((id) => existsSync(join(STATE_ROOT, id)))).toEqual([]);
    expect(mountPointsUnder(dir)).toEqual([]);
    if (cg2 !== undefined) expect(ids.filter((id) => existsSync(join(cg2!, 'libpod_parent', `libpod-${id}`)))).toEqual([]);
    const inside: number[] = [];
    for (const pid of execFileSync('sh', ['-c', 'pgrep -x sleep || true'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
      try {
        if (readlinkSync(`/proc/${pid}/root`).startsWith(`${dir}/`)) inside.push(Number(pid));
      } catch { /* gone */ }
    }
    expect(inside).toEqual([]);
  }, 60_000);
});
