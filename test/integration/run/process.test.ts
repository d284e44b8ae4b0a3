// The container process itself: rlimits, user/groups, cwd, env, umask, oom_score_adj, stdin/stdout/
// stderr pass-through and exit codes.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, makeBundle, runBundle, runScript } from '../../helpers/bundle.js';

const skip = cannotRunContainers();

describe.skipIf(skip !== undefined)(`tsrun run: the container process${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  describe('process.rlimits', () => {
    it('soft and hard RLIMIT_NOFILE are applied', async () => {
      const r = await runScript('ulimit -n; ulimit -Hn', {
        mutate: (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 }]; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('512\n1000\n');
    });

    it('several limits at once, including one set to unlimited (2^64-1)', async () => {
      const r = await runScript('ulimit -n; ulimit -Sc; ulimit -Hc; ulimit -Ss', {
        mutate: (s) => {
          s.process!.rlimits = [
            { type: 'RLIMIT_NOFILE', soft: 256, hard: 256 },
            { type: 'RLIMIT_CORE', soft: 0, hard: 18446744073709551615 },
            { type: 'RLIMIT_STACK', soft: 4 * 1024 * 1024, hard: 18446744073709551615 },
          ];
        },
      });
      expect(r.stderr).toBe('');
      // busybox prints RLIMIT_CORE in 512-byte blocks and the stack in KiB.
      expect(r.stdout).toBe('256\n0\nunlimited\n4096\n');
    });

    it('the limits hold for the container\'s user after the uid switch', async () => {
      const r = await runScript('id -u; ulimit -n; ulimit -Hn', {
        mutate: (s) => {
          s.process!.user = { uid: 1000, gid: 1000 };
          s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }];
        },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('1000\n100\n200\n');
    });
  });

  describe('process.user', () => {
    it('uid, gid and additionalGids (numeric and named)', async () => {
      const r = await runScript('id -u; id -g; grep ^Groups: /proc/self/status; id', {
        mutate: (s) => { s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 65534, 4242] }; },
      });
      expect(r.stderr).toBe('');
      // The kernel keeps supplementary groups sorted.
      expect(r.stdout).toBe('1000\n1000\nGroups:\t5 4242 65534 \nuid=1000(user) gid=1000(user) groups=5(tty),4242,65534(nogroup)\n');
    });

    it('no additionalGids: tsrun\'s own supplementary groups are dropped', async () => {
      const r = await runScript('id -G; grep ^Groups: /proc/self/status', {
        mutate: (s) => { s.process!.user = { uid: 0, gid: 0 }; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^0\nGroups:\s*\n$/);
    });

    it('a uid without an /etc/passwd entry still runs', async () => {
      const r = await runScript('id -u; id -g; grep -E "^(Uid|Gid):" /proc/self/status', {
        mutate: (s) => { s.process!.user = { uid: 31337, gid: 4242 }; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('31337\n4242\nUid:\t31337\t31337\t31337\t31337\nGid:\t4242\t4242\t4242\t4242\n');
    });

    it('process.user.umask applies to files the process creates', async () => {
      const r = await runScript('umask; touch /tmp/f; stat -c %a /tmp/f', {
        mutate: (s) => { s.process!.user = { uid: 0, gid: 0, umask: 0o077 }; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('0077\n600\n');
    });

    it('default umask is 0022', async () => {
      const r = await runScript('umask');
      expect(r.stdout).toBe('0022\n');
    });
  });

  it('process.cwd is the working directory', async () => {
    const r = await runScript('pwd; ls', {
      mutate: (s) => { s.process!.cwd = '/etc'; },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/etc\ngroup\npasswd\n');
  });

  it('a process.cwd that does not exist fails with a message naming process.cwd and ENOENT', async () => {
    const r = await runScript('pwd', { mutate: (s) => { s.process!.cwd = '/does/not/exist'; } });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/process\.cwd/);
    expect(r.stderr).toMatch(/ENOENT/);
    expect(r.exitCode).not.toBe(0);
  });

  it('process.env is the whole environment: nothing of tsrun\'s leaks in', async () => {
    const r = await runScript('env | sort', {
      env: { ...process.env as Record<string, string>, TSRUN_IT_HOST_SECRET: 'leaked' },
      mutate: (s) => { s.process!.env = ['PATH=/bin:/usr/bin', 'FOO=bar baz', 'EMPTY=', 'HOME=/root']; },
    });
    expect(r.stderr).toBe('');
    const vars = r.stdout.trim().split('\n').filter((l) => !/^(PWD|SHLVL|_)=/.test(l));
    expect(vars).toEqual(['EMPTY=', 'FOO=bar baz', 'HOME=/root', 'PATH=/bin:/usr/bin']);
    expect(r.stdout).not.toContain('TSRUN_IT_HOST_SECRET');
  });

  it('args are passed without a shell and PATH of the container is used to find argv[0]', async () => {
    const bundle = makeBundle({
      mutate: (s) => {
        s.process!.args = ['printf', '[%s]\\n', 'a b', '$HOME', '*'];
        s.process!.env = ['PATH=/usr/bin:/bin'];
      },
    });
    const r = await runBundle(bundle);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('[a b]\n[$HOME]\n[*]\n');
  });

  it('a program that does not exist: exec fails naming process.args, exit non-zero', async () => {
    const bundle = makeBundle({ mutate: (s) => { s.process!.args = ['/no/such/program']; } });
    const r = await runBundle(bundle);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/process\.args/);
    expect(r.stderr).toMatch(/ENOENT/);
    expect(r.exitCode).not.toBe(0);
  });

  describe('process.oomScoreAdj', () => {
    it('is written for the container process', async () => {
      const hostBefore = readFileSync('/proc/self/oom_score_adj', 'utf8');
      const r = await runScript('cat /proc/self/oom_score_adj', { mutate: (s) => { s.process!.oomScoreAdj = 687; } });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('687\n');
      expect(readFileSync('/proc/self/oom_score_adj', 'utf8')).toBe(hostBefore);
    });

    it('when absent, the container inherits tsrun\'s (0 here)', async () => {
      const r = await runScript('cat /proc/self/oom_score_adj', { mutate: (s) => { delete s.process!.oomScoreAdj; } });
      expect(r.stdout).toBe(`${readFileSync('/proc/self/oom_score_adj', 'utf8').trim()}\n`);
    });
  });

  describe('stdio', () => {
    it('stdin passes through (echo hi | tsrun run … cat)', async () => {
      const bundle = makeBundle({ mutate: (s) => { s.process!.args = ['cat']; } });
      const r = await runBundle(bundle, [], { input: 'hi\nthere\n' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('hi\nthere\n');
      expect(r.exitCode).toBe(0);
    });

    it('large stdin passes through intact', async () => {
      const bundle = makeBundle({ mutate: (s) => { s.process!.args = ['md5sum']; } });
      const big = 'x'.repeat(1024 * 1024) + 'end\n';
      const { createHash } = await import('node:crypto');
      const r = await runBundle(bundle, [], { input: big });
      expect(r.stdout).toBe(`${createHash('md5').update(big).digest('hex')}  -\n`);
    });

    it('stdout and stderr stay separate', async () => {
      const r = await runScript('echo to-out; echo to-err >&2; echo again-out');
      expect(r.stdout).toBe('to-out\nagain-out\n');
      expect(r.stderr).toBe('to-err\n');
    });
  });

  describe('exit codes', () => {
    it.each([0, 1, 42, 255])('exit %i → tsrun exits %i', async (code) => {
      const r = await runScript(`exit ${code}`);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(code);
    });

    it('a container killed by a signal it sends itself from a child (SIGKILL to PID 1 from inside is ignored)', async () => {
      // PID 1 of a PID namespace ignores signals it has no handler for, even SIGKILL, from inside.
      const r = await runScript('kill -9 $$; echo still-alive; exit 3');
      expect(r.stdout).toBe('still-alive\n');
      expect(r.exitCode).toBe(3);
    });

    // tsrun reads the child's set-up reports on its own thread when they come quickly (the usual
    // case) and on a worker thread otherwise; TSRUN_QUICK_REPORT_MS=0 takes the worker path for each.
    it('set-up reports read on a worker thread (a slow child): output, trace and exit code as usual', async () => {
      const r = await runScript('echo slow-path; exit 5', { env: { TSRUN_QUICK_REPORT_MS: '0' }, extraArgs: ['--trace'] });
      expect(r.stdout).toBe('slow-path\n');
      expect(r.stderr).toMatch(/trace step +\d+ +ok .*pivot_root/);
      expect(r.exitCode).toBe(5);
    });

    it('a failing step is reported on the worker path too', async () => {
      const r = await runScript('true', { env: { TSRUN_QUICK_REPORT_MS: '0' }, mutate: (s) => { s.process!.cwd = '/no/such/dir'; } });
      expect(r.stderr).toMatch(/process\.cwd.*ENOENT|ENOENT.*process\.cwd/);
      expect(r.exitCode).not.toBe(0);
    });

    it('the exit code of the last command of a pipeline', async () => {
      const r = await runScript('false | true; echo $?; true | false');
      expect(r.stdout).toBe('0\n');
      expect(r.exitCode).toBe(1);
    });
  });
});
