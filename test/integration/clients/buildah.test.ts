// buildah (Debian 12's 1.28) building an image with tsrun as its OCI runtime (`bud --isolation oci
// --runtime`), side by side with runc: a Containerfile whose RUN steps write, read, see ENV/WORKDIR/USER
// and a COPY'd file; the image it commits has what the steps made (checked with `buildah run`); a
// failing RUN fails the build with its exit status. buildah calls create --bundle --pid-file, start,
// state, delete for every RUN. Storage (vfs: no mounts to undo), run dir and tmp dir are a temporary
// directory; the test checks that no runtime state, cgroup or mount is left.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, cannotRunContainers, mountPointsUnder } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';

const TSRUN = process.env.TSRUN_CLIENT_RUNTIME ?? join(REPO, 'bin/tsrun');
const ARCHIVE = join(REPO, 'rootfs-samples/build/busybox-layers.docker.tar');
const BASE = 'docker.io/library/busybox-layers:latest';
const RUNTIMES = spawnSync('runc', ['--version']).status === 0 ? ['tsrun', 'runc'] as const : ['tsrun'] as const;
type Runtime = 'tsrun' | 'runc';

function buildahMissing(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v buildah']).status !== 0) return 'buildah is not installed (Debian package: buildah)';
  if (!existsSync(TSRUN)) return `${TSRUN} missing: run \`make build\``;
  if (!existsSync(ARCHIVE)) return 'no sample image archive (make samples)';
  return undefined;
}
const skip = cannotRunContainers() ?? buildahMissing();

const CONTAINERFILE = `FROM ${BASE}
USER root
ENV GREETING=from-env
WORKDIR /work
COPY note.txt /work/note.txt
RUN echo built-by-run > /hi && cat /hi
RUN echo "$GREETING in $(pwd) as $(id -u): $(cat note.txt)"
RUN mkdir -p /made && for i in 1 2 3; do echo $i >> /made/list; done
USER app
RUN id -un > /tmp/user
`;

interface Result { exitCode: number | undefined; stdout: string; stderr: string }

describe.skipIf(skip !== undefined)(`buildah bud with tsrun, side by side with runc${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  let dir: string;
  const cgroups = cgroup2Mount();
  const buildah = async (args: string[]): Promise<Result> => {
    const r = await execa('buildah', ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', ...args], {
      reject: false, timeout: 180_000, killSignal: 'SIGKILL', stdin: 'ignore', env: { ...process.env as Record<string, string>, TMPDIR: join(dir, 'tmp') },
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
  };
  const runtimeFlags = (rt: Runtime): string[] => ['--isolation', 'oci', '--runtime', join(dir, rt)];
  const calls = (rt: Runtime): string[] => readFileSync(join(dir, `calls-${rt}.log`), 'utf8').split('\n').filter(Boolean);
  /** Container ids buildah gave the runtime (create … ID). */
  const createdIds = (rt: Runtime): string[] => calls(rt).filter((c) => c.startsWith('create ')).map((c) => c.split(' ').at(-1)!);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsrun-it-clients-buildah-'));
    mkdirSync(join(dir, 'tmp'));
    mkdirSync(join(dir, 'ctx'));
    writeFileSync(join(dir, 'ctx', 'Containerfile'), CONTAINERFILE);
    writeFileSync(join(dir, 'ctx', 'note.txt'), 'copied note');
    writeFileSync(join(dir, 'ctx', 'Failfile'), `FROM ${BASE}\nRUN echo before-failing\nRUN exit 3\nRUN echo never\n`);
    for (const rt of ['tsrun', 'runc'] as const) {
      writeFileSync(join(dir, rt), `#!/bin/sh\necho "$*" >> '${join(dir, `calls-${rt}.log`)}'\nexec '${rt === 'tsrun' ? TSRUN : 'runc'}' "$@"\n`);
      chmodSync(join(dir, rt), 0o755);
      writeFileSync(join(dir, `calls-${rt}.log`), '');
    }
    const pulled = await buildah(['pull', '-q', `docker-archive:${ARCHIVE}`]);
    expect(pulled.exitCode, pulled.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    if (dir === undefined) return;
    await buildah(['rm', '-a']);
    await buildah(['rmi', '-af']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('bud: every RUN step runs in the runtime, with ENV, WORKDIR, USER and COPY as with runc', async () => {
    const outputs: Record<string, string[]> = {};
    for (const rt of RUNTIMES) {
      const r = await buildah(['bud', ...runtimeFlags(rt), '--network', 'none', '-t', `out-${rt}`, '-f', join(dir, 'ctx', 'Containerfile'), join(dir, 'ctx')]);
      expect(r.exitCode, `${rt}: ${r.stderr}`).toBe(0);
      // The lines the RUN steps printed (buildah's own lines start with STEP, COMMIT, --> …).
      outputs[rt] = r.stdout.split('\n').filter((l) => /^(built-by-run|from-env)/.test(l));
      expect(createdIds(rt)).toHaveLength(4);
      for (const id of createdIds(rt)) {
        expect(calls(rt).filter((c) => c.endsWith(` ${id}`)).map((c) => c.split(' ')[0])).toEqual(['create', 'start', 'state', 'delete']);
      }
    }
    expect(outputs.tsrun).toEqual(['built-by-run', 'from-env in /work as 0: copied note']);
    if (outputs.runc) expect(outputs.tsrun).toEqual(outputs.runc);
  }, 600_000);

  it.each(RUNTIMES)('%s: the committed image holds what the RUN steps made', async (rt) => {
    const from = await buildah(['from', '--name', `check-${rt}`, `localhost/out-${rt}`]);
    expect(from.exitCode, from.stderr).toBe(0);
    const r = await buildah(['run', ...runtimeFlags(rt).slice(2), '--network', 'none', `check-${rt}`, 'sh', '-c', 'cat /hi /made/list /tmp/user /work/note.txt']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('built-by-run\n1\n2\n3\napp\ncopied note');
    expect(r.exitCode).toBe(0);
    expect((await buildah(['rm', `check-${rt}`])).exitCode).toBe(0);
  }, 180_000);

  it('a failing RUN fails the build with its exit status, as with runc; the later steps do not run', async () => {
    const seen: Record<string, { exitCode: number | undefined; error: string | undefined; ran: boolean }> = {};
    for (const rt of RUNTIMES) {
      const r = await buildah(['bud', ...runtimeFlags(rt), '--network', 'none', '-t', `fail-${rt}`, '-f', join(dir, 'ctx', 'Failfile'), join(dir, 'ctx')]);
      seen[rt] = { exitCode: r.exitCode, error: /exit status \d+/.exec(r.stderr)?.[0], ran: r.stdout.includes('never') };
    }
    expect(seen.tsrun).toEqual({ exitCode: seen.tsrun!.exitCode, error: 'exit status 3', ran: false });
    expect(seen.tsrun!.exitCode).not.toBe(0);
    if (seen.runc) expect(seen.tsrun).toEqual(seen.runc);
  }, 600_000);

  it('leaves nothing: no runtime state, cgroup or mount of the builds', () => {
    const ids = createdIds('tsrun');
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id) => existsSync(join('/run/tsrun', id)))).toEqual([]);
    if (cgroups) expect(ids.filter((id) => existsSync(join(cgroups, 'tsrun', id)))).toEqual([]);
    expect(mountPointsUnder(dir)).toEqual([]);
    expect(readdirSync(join(dir, 'tmp')).filter((f) => f.startsWith('buildah'))).toEqual([]);
  });
});
