// What a container finds where clients differ from a terminal: stdio that is /dev/null opened
// read-only (a caller's `1</dev/null`, `ctr run --null-io`, whose shim opens /dev/null O_RDONLY for
// all three) must be writable inside, as runc makes it (reOpenDevNull); a masked directory is a
// read-only tmpfs without options; /dev/core exists only where the host has /proc/kcore. Each is
// compared with runc on the same bundle where runc runs here.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, makeBundle, REPO, sh, TSRUN, type TestBundle } from '../../helpers/bundle.js';

const skip = cannotRunContainers();
const haveRunc = spawnSync('runc', ['--version']).status === 0;

type Stdio = 'ignore' | 'pipe' | number;

/** `RUNTIME run --bundle B ID` with fds 0-2 from `stdio` (a number is an fd of this process). */
async function runWith(runtime: 'tsrun' | 'runc', bundle: TestBundle, stdio: [Stdio, Stdio, Stdio]): Promise<{ exitCode: number | null; stderr: string; stdout: string }> {
  const id = `${bundle.marker}-${runtime}`;
  const [cmd, args] = runtime === 'tsrun' ? ['node', [TSRUN, 'run', '--bundle', bundle.dir, id]] : ['runc', ['run', '--bundle', bundle.dir, id]];
  const child = spawn(cmd, args, { cwd: REPO, stdio, timeout: 20_000, killSignal: 'SIGKILL' });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exitCode = await new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  if (runtime === 'runc') await execa('runc', ['delete', '--force', id], { reject: false });
  return { exitCode, stderr, stdout };
}

const runtimes = haveRunc ? (['tsrun', 'runc'] as const) : (['tsrun'] as const);

describe.skipIf(skip !== undefined)(`stdio on /dev/null, masked directories, /dev/core${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  for (const runtime of runtimes) {
    it(`${runtime}: stdout and stderr given as /dev/null opened read-only can be written (and stdin read)`, async () => {
      // The status says which write failed: 0 when both worked.
      const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('echo out || exit 3; echo err >&2 || exit 4; cat; exit 0', b.marker); } });
      const nullRO = openSync('/dev/null', 'r');
      try {
        const r = await runWith(runtime, bundle, [nullRO, nullRO, nullRO]);
        expect(r.exitCode).toBe(0);
      } finally {
        closeSync(nullRO);
      }
    });
  }

  it('tsrun: stdio that is not /dev/null is left alone (a pipe stays the same pipe)', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('echo through-the-pipe', b.marker); } });
    const nullRO = openSync('/dev/null', 'r');
    try {
      const r = await runWith('tsrun', bundle, [nullRO, 'pipe', 'pipe']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('through-the-pipe\n');
      expect(r.exitCode).toBe(0);
    } finally {
      closeSync(nullRO);
    }
  });

  it('tsrun: an image whose /dev/null is a symlink is not followed: stdio stays as given (runc\'s outcome too)', async () => {
    // /dev is the bundle's own directory (no tmpfs), and /dev/null in it a symlink to a file.
    const bundle = makeBundle({
      prepareRootfs: (rootfs) => { spawnSync('sh', ['-c', `mkdir -p ${rootfs}/dev && rm -f ${rootfs}/dev/null && echo secret > ${rootfs}/secret && ln -s /secret ${rootfs}/dev/null`]); },
      mutate: (s, b) => {
        s.process!.args = sh('echo hi || exit 3', b.marker);
        s.mounts = s.mounts!.filter((m) => m.destination !== '/dev' && !m.destination.startsWith('/dev/'));
        // No masks (they refuse such a /dev/null by name: security/masked-symlink.test.ts); no node of tsrun's over the link.
        s.linux!.maskedPaths = [];
        s.linux!.devices = [];
      },
    });
    const nullRO = openSync('/dev/null', 'r');
    try {
      const r = await runWith('tsrun', bundle, [nullRO, nullRO, 'pipe']);
      // The link is not followed (O_NOFOLLOW): nothing reaches /secret, and stdout stays read-only.
      expect(r.stderr).toBe('sh: write error: Bad file descriptor\n');
      expect(r.exitCode).toBe(3);
      expect(spawnSync('cat', [`${bundle.rootfs}/secret`], { encoding: 'utf8' }).stdout).toBe('secret\n');
    } finally {
      closeSync(nullRO);
    }
  });

  for (const runtime of runtimes) {
    it(`${runtime}: a masked directory is a read-only tmpfs with no size option; /dev/core only where the host has /proc/kcore`, async () => {
      const bundle = makeBundle({
        prepareRootfs: (rootfs) => { spawnSync('mkdir', ['-p', `${rootfs}/masked-dir`]); },
        mutate: (s, b) => {
          s.linux!.maskedPaths = ['/masked-dir'];
          s.process!.args = sh('grep " /masked-dir " /proc/self/mountinfo | sed "s/^[^ ]* [^ ]* [^ ]* [^ ]* [^ ]* \\([^ ]*\\).* - \\([^ ]*\\) [^ ]* \\(.*\\)$/\\1 \\2 \\3/"; [ -L /dev/core ] && echo "core $(readlink /dev/core)" || echo no-core', b.marker);
        },
      });
      const r = await runWith(runtime, bundle, ['ignore', 'pipe', 'pipe']);
      expect(r.stderr).toBe('');
      const [mount, core] = r.stdout.trim().split('\n');
      // mount options, fs type, super options (runc: "ro,relatime tmpfs ro,inode64" or so; never size=0k)
      expect(mount).toMatch(/^ro,[^ ]* tmpfs ro/);
      expect(mount).not.toMatch(/size=/);
      expect(core).toBe(existsSync('/proc/kcore') ? 'core /proc/kcore' : 'no-core');
    });
  }
});
