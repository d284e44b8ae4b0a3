// `tsrun run` as a command: bad configs name their field, failing steps name step and errno, and
// --dry-run / --trace show the plan. Every failure leaves nothing behind (checked by the hooks).
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { REPO, SAMPLE_BUNDLE, TSRUN, cannotRunContainers, containerTestHooks, makeBundle, mountPoints, runBundle, runScript, sh } from '../../helpers/bundle.js';

const skip = cannotRunContainers();
const LAUNCHER = join(REPO, 'bin/tsrun');
const LAYOUT = join(REPO, 'rootfs-samples/build/busybox-layers');
/** Both ways tsrun is started: the plain bundle (node bin/tsrun.js) and the launcher with its startup snapshot. */
const STARTS: [string, string, string[]][] = [['node bin/tsrun.js', 'node', [TSRUN]], ['bin/tsrun', LAUNCHER, []]];

describe.skipIf(skip !== undefined)(`tsrun run: errors, --dry-run, --trace${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  describe('a bad config names its field, exits non-zero and runs nothing', () => {
    const cases: [string, (s: Spec) => void, RegExp][] = [
      ['unknown rlimit', (s) => { s.process!.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]; }, /process\.rlimits\[0\]\.type.*RLIMIT_BOGUS/],
      ['second rlimit unknown', (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }, { type: 'RLIMIT_NOPE', soft: 1, hard: 1 }]; }, /process\.rlimits\[1\]\.type/],
      ['empty process.args', (s) => { s.process!.args = []; }, /process\.args/],
      ['hostname without a uts namespace', (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }, /hostname/],
      // Without a mount namespace the rootfs would have to be remounted read-only in the caller's own table.
      // (Masked and read-only paths are refused without one too: the config has none.)
      ['readonly root without a mount namespace', (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); delete s.linux!.maskedPaths; delete s.linux!.readonlyPaths; s.root!.readonly = true; }, /root\.readonly/],
      ['masked paths without a mount namespace', (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); }, /linux\.maskedPaths: needs a private mount namespace/],
      ['user namespace without uidMappings', (s) => { s.linux!.namespaces!.push({ type: 'user' }); }, /linux\.uidMappings/],
      ['mount without destination type', (s) => { s.mounts!.push({ destination: '/x' }); }, /mounts\[7\]/],
      ['unknown capability', (s) => { s.process!.capabilities!.bounding = ['CAP_NOT_A_THING']; }, /process\.capabilities\.bounding\[0\]|CAP_NOT_A_THING/],
      ['unknown namespace type', (s) => { (s.linux!.namespaces as { type: string }[]).push({ type: 'bogus' }); }, /linux\.namespaces\[5\]/],
      ['root.path that does not exist', (s) => { s.root!.path = 'no-such-rootfs'; }, /no-such-rootfs/],
    ];
    it.each(cases)('%s', async (_name, mutate, fieldPattern) => {
      const bundle = makeBundle({
        mutate: (s, b) => {
          s.process!.args = sh('touch /ran; echo ran', b.marker);
          s.root!.readonly = false;
          mutate(s);
        },
      });
      const before = readdirSync(bundle.rootfs).sort();
      const r = await runBundle(bundle);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^tsrun: /);
      expect(r.stderr).toMatch(fieldPattern);
      expect(r.exitCode, 'run: tsrun failed (podman\'s 125)').toBe(125);
      expect(existsSync(join(bundle.rootfs, 'ran'))).toBe(false);
      expect(readdirSync(bundle.rootfs).sort()).toEqual(before);
    });

    it('invalid JSON names the file and the position', async () => {
      const bundle = makeBundle();
      const { writeFileSync } = await import('node:fs');
      writeFileSync(bundle.configPath, '{"ociVersion": "1.0.2",\n "process": {,}\n}');
      const r = await runBundle(bundle);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(bundle.configPath);
      expect(r.stderr).toMatch(/invalid JSON at line 2/);
      expect(r.exitCode).toBe(125);
    });

    it('a bundle directory without config.json says so', async () => {
      const bundle = makeBundle();
      const { rmSync } = await import('node:fs');
      rmSync(bundle.configPath);
      const r = await runBundle(bundle);
      expect(r.stderr).toMatch(/config\.json does not exist/);
      expect(r.exitCode).toBe(125);
    });
  });

  describe('a failing step names the step, its config field and the errno', () => {
    it('a mount of type "nosuchfs" → ENODEV with step index and mounts[N]', async () => {
      const r = await runScript('echo ran', {
        mutate: (s) => {
          s.mounts!.push({ destination: '/mnt/ok', type: 'tmpfs', source: 'tmpfs' }, { destination: '/mnt/bad', type: 'nosuchfs', source: 'none' });
        },
      });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/mount nosuchfs .* \(step \d+, mounts\[\d+\]\): ENODEV/);
      expect(r.stderr).toMatch(/\(step \d+, mounts\[8\]\)/);
      expect(r.exitCode).toBe(125);
    });

    it('the step index in the message is the one --dry-run shows for that mount', async () => {
      const bundle = makeBundle({ mutate: (s) => { s.mounts!.push({ destination: '/mnt/bad', type: 'nosuchfs', source: 'none' }); } });
      const dry = await runBundle(bundle, ['--dry-run']);
      const planned = /^\s*(\d+)\s+mount nosuchfs/m.exec(dry.stdout);
      expect(planned).not.toBeNull();
      const r = await runBundle(bundle);
      const reported = /\(step (\d+), mounts\[7\]\): ENODEV/.exec(r.stderr);
      expect(reported?.[1]).toBe(planned![1]);
    });

    it('a bad mount option → EINVAL naming the mount', async () => {
      const r = await runScript('echo ran', {
        mutate: (s) => { s.mounts!.push({ destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['size=lots'] }); },
      });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/mount tmpfs .*\/mnt\/t.* \(step \d+, mounts\[7\]\): EINVAL/);
      expect(r.exitCode).not.toBe(0);
    });

    it('a sysctl that does not exist names linux.sysctl.<key>', async () => {
      const r = await runScript('echo ran', { mutate: (s) => { s.linux!.sysctl = { 'net.ipv4.no_such_knob': '1' }; } });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/\(step \d+, linux\.sysctl\.net\.ipv4\.no_such_knob\): ENOENT/);
      expect(r.exitCode).not.toBe(0);
    });

    it('with --trace the failing step is shown with its errno too', async () => {
      const r = await runScript('echo ran', {
        extraArgs: ['--trace'],
        mutate: (s) => { s.mounts!.push({ destination: '/mnt/bad', type: 'nosuchfs', source: 'none' }); },
      });
      expect(r.stderr).toMatch(/^trace step\s+\d+ ENODEV .*mount nosuchfs/m);
      expect(r.exitCode).not.toBe(0);
    });
  });

  describe('--dry-run', () => {
    it('prints the plan (namespaces, steps with fields, the exec) and runs nothing', async () => {
      const bundle = makeBundle({
        mutate: (s, b) => {
          s.root!.readonly = false;
          s.process!.args = sh('touch /dry-run-ran', b.marker);
          s.mounts!.push({ destination: '/created-by-run', type: 'tmpfs', source: 'tmpfs' });
        },
      });
      const r = await runBundle(bundle, ['--dry-run']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      // The cgroup section (its writes, or the refusal) comes first, then the namespaces.
      expect(r.stdout).toMatch(/^cgroup[ :][^\n]*\n(  [^\n]*\n)*namespaces:\n\s+new\s+pid/);
      expect(r.stdout).toMatch(/^steps/m);
      expect(r.stdout).toMatch(/^\s*\d+\s+sethostname "tsrun"\s+\[hostname\]$/m);
      expect(r.stdout).toMatch(/^\s*\d+\s+mount tmpfs on \/created-by-run\s+\[mounts\[7\]\]$/m);
      expect(r.stdout).toMatch(/^\s*\d+\s+pivot_root/m);
      expect(r.stdout).toMatch(new RegExp(`^\\s*\\d+\\s+execve \\["sh","-c","touch /dry-run-ran","${bundle.marker}"\\]\\s+\\[process\\.args\\]$`, 'm'));
      // Nothing ran: no file from the process, no destination created.
      expect(existsSync(join(bundle.rootfs, 'dry-run-ran'))).toBe(false);
      expect(existsSync(join(bundle.rootfs, 'created-by-run'))).toBe(false);
    });

    it('works without root privileges being used: the same bundle then really runs', async () => {
      const bundle = makeBundle({ mutate: (s, b) => { s.root!.readonly = false; s.process!.args = sh('touch /ran && echo ran', b.marker); } });
      const dry = await runBundle(bundle, ['--dry-run']);
      expect(dry.exitCode).toBe(0);
      expect(existsSync(join(bundle.rootfs, 'ran'))).toBe(false);
      const real = await runBundle(bundle);
      expect(real.stdout).toBe('ran\n');
      expect(existsSync(join(bundle.rootfs, 'ran'))).toBe(true);
    });
  });

  describe('--trace', () => {
    it('prints a line for the clone and for every step, in order, on stderr; stdout is the container\'s', async () => {
      const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('echo container-output', b.marker); } });
      const dry = await runBundle(bundle, ['--dry-run']);
      // Without an id, --dry-run names the state dir `<id>`; the run generates one.
      const strip = (title: string): string => title.trim().replace(/\s+[a-z_0-9]+\(\d\)$/, '').replace(/\s+\[\S*\]$/, '').replace(/(\/run\/tsrun\/)[^/]+(\/exec\.fifo)/, '$1<id>$2');
      const planned = [...dry.stdout.matchAll(/^\s*(\d+)\s{2}(.+)$/gm)].map((m) => strip(m[2]!));
      expect(planned.length).toBeGreaterThan(30);
      const r = await runBundle(bundle, ['--trace']);
      expect(r.stdout).toBe('container-output\n');
      expect(r.exitCode).toBe(0);
      expect(r.stderr).toMatch(/^trace parent\s+ok\s+.*clone3?\((CLONE_VM\|CLONE_VFORK\|)?(CLONE_INTO_CGROUP\|)?CLONE_NEWPID\|CLONE_NEWNET\|CLONE_NEWIPC\|CLONE_NEWUTS\|CLONE_NEWNS\) → pid \d+/m);
      const traced = [...r.stderr.matchAll(/^trace step\s+(\d+) (skipped \(\w+\)|\S+)\s+(?:[\d.]+ms\s+)?(.+)$/gm)].map((m) => ({ step: Number(m[1]), result: m[2]!, title: m[3]!.trim() }));
      // Every step index from 0 to the exec, none skipped, none failed.
      const indices = [...new Set(traced.map((t) => t.step))];
      expect(indices).toEqual(indices.map((_, i) => i));
      expect(traced.filter((t) => !['ok', 'exec', 'waiting', 'skipped (ENOENT)'].includes(t.result))).toEqual([]);
      expect(traced.at(-1)!.result).toBe('exec');
      expect(traced.at(-1)!.title).toMatch(/^execve \["sh","-c"/);
      // Every step --dry-run planned appears in the trace.
      const titles = traced.map((t) => strip(t.title));
      expect(planned.filter((p) => !titles.includes(p))).toEqual([]);
    });

    it('without --trace stderr is empty', async () => {
      const r = await runScript('echo x');
      expect(r.stderr).toBe('');
    });
  });

  it('runc-style invocation: `tsrun run --bundle DIR ID` and `tsrun run BUNDLE` both work', async () => {
    const bundle = makeBundle({ mutate: (s, b) => { s.process!.args = sh('echo ok', b.marker); } });
    const a = await runBundle(bundle, [], {});
    const { runTsrun } = await import('../../helpers/bundle.js');
    const b = await runTsrun(['run', '--bundle', bundle.dir, 'my-id-1']);
    const c = await runTsrun(['run', bundle.dir]);
    expect([a.stdout, b.stdout, c.stdout]).toEqual(['ok\n', 'ok\n', 'ok\n']);
    expect([a.exitCode, b.exitCode, c.exitCode]).toEqual([0, 0, 0]);
  });
  describe('the command line: global options before the command, paths made absolute (issue 13)', () => {
    it.each(STARTS)('%s: `run --image IMG -v /tmp:/host -- …` is an error naming -v (125), runs nothing and prints no version', async (_how, cmd, pre) => {
      const store = mkdtempSync(join(tmpdir(), 'tsrun-it-cli-store-'));
      try {
        const r = await execa(cmd, [...pre, 'run', '--store', store, '--image', LAYOUT, '-v', '/tmp:/host', '--', 'echo ran'], { reject: false, stdin: 'ignore', cwd: REPO, timeout: 20_000 });
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^tsrun: -v is a global option \(--version\), given before the command only .*; run has no option -v \(see tsrun run --help\)$/);
        expect(r.exitCode).toBe(125);
        expect(readdirSync(store)).toEqual([]);
      } finally {
        rmSync(store, { recursive: true, force: true });
      }
    });

    it.each(STARTS)('%s: a global option after the command is an error saying where it goes; an unknown one is refused by name', async (_how, cmd, pre) => {
      const after = await execa(cmd, [...pre, 'state', '--root', '/tmp', 'x'], { reject: false, stdin: 'ignore', cwd: REPO });
      expect(after.stderr).toMatch(/^tsrun: --root is a global option, given before the command only \(tsrun --root … state …\); state has no option --root/);
      expect(after.exitCode).toBe(2);
      const unknown = await execa(cmd, [...pre, '--no-such-global', 'state', 'x'], { reject: false, stdin: 'ignore', cwd: REPO });
      expect(unknown.stderr).toMatch(/^tsrun: unknown option --no-such-global before the command/);
      expect(unknown.exitCode).toBe(2);
      // runc's --systemd-cgroup is a global option (a command without a cgroup to make ignores it).
      const systemd = await execa(cmd, [...pre, '--systemd-cgroup', 'state', 'x'], { reject: false, stdin: 'ignore', cwd: REPO });
      expect(systemd.stderr).toBe('tsrun: container x does not exist');
      expect(systemd.exitCode).toBe(1);
    });

    it.skipIf(existsSync('/run/systemd/system'))('delete of a container whose cgroup was a systemd scope runs the systemd driver (full bundle), even without --systemd-cgroup', async () => {
      const root = mkdtempSync(join(tmpdir(), 'tsrun-it-sdrecord-'));
      try {
        const dir = join(root, 'sdrec');
        const record = { ociVersion: '1.2.0', id: 'sdrec', pid: 0, pidStartTime: '', bundle: SAMPLE_BUNDLE, rootfs: join(SAMPLE_BUNDLE, 'rootfs'), created: new Date().toISOString(),
          cgroupDir: '/sys/fs/cgroup/system.slice/tsrun-sdrec.scope', cgroupOwnedRoot: '/sys/fs/cgroup/system.slice/tsrun-sdrec.scope', cgroupSystemdUnit: 'tsrun-sdrec.scope', started: true, config: { ociVersion: '1.2.0' } };
        await execa('mkdir', ['-p', '-m', '0700', dir]);
        writeFileSync(join(dir, 'state.json'), JSON.stringify(record), { mode: 0o600 });
        const r = await execa(LAUNCHER, ['--root', root, '--debug', 'delete', 'sdrec'], { reject: false, stdin: 'ignore', cwd: REPO });
        // Routed to the full bundle when the snapshot serves commands here (the launcher says which it runs).
        if (/launcher: .*tsrun\.blob/.test(r.stderr)) expect(r.stderr).toMatch(/not in the startup snapshot, running dist\/snapshot\/full\.cjs/);
        // No systemd runs here, so no scope of it can exist: the state goes.
        expect(r.exitCode).toBe(0);
        expect(readdirSync(root)).toEqual([]);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it.skipIf(existsSync('/run/systemd/system')).each(STARTS)('%s: --systemd-cgroup on a host without systemd as init: one line naming the cause, exit 1 (125 for run), nothing left', async (_how, cmd, pre) => {
      const root = mkdtempSync(join(tmpdir(), 'tsrun-it-nosystemd-'));
      try {
        for (const [args, status] of [[['create', '--bundle', SAMPLE_BUNDLE, 'nosd'], 1], [['run', '--bundle', SAMPLE_BUNDLE, 'nosd'], 125], [['run', '-d', '--bundle', SAMPLE_BUNDLE, 'nosd'], 125]] as const) {
          const r = await execa(cmd, [...pre, '--root', root, '--systemd-cgroup', ...args], { reject: false, stdin: 'ignore', cwd: REPO });
          expect(r.stderr).toBe('tsrun: --systemd-cgroup: systemd is not running as this host\'s init (no directory /run/systemd/system), so it cannot make the container\'s scope; leave out --systemd-cgroup');
          expect(r.exitCode, args.join(' ')).toBe(status);
          expect(readdirSync(root)).toEqual([]);
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it.skipIf(!existsSync(join(LAYOUT, 'index.json'))).each(STARTS)('%s: relative --root, --store and --pid-file work for `run --image` (resolved against the working directory)', async (_how, cmd, pre) => {
      const cwd = mkdtempSync(join(tmpdir(), 'tsrun-it-cli-rel-'));
      const before = mountPoints();
      try {
        const r = await execa(cmd, [...pre, '--root', 'state', 'run', '--store', 'store', '--pid-file', 'init.pid', '--image', LAYOUT, '--', 'echo relative-ok'], { reject: false, stdin: 'ignore', cwd, timeout: 30_000 });
        expect(r.stderr).toBe('');
        expect(r.stdout).toBe('relative-ok');
        expect(r.exitCode).toBe(0);
        expect(Number(readFileSync(join(cwd, 'init.pid'), 'utf8'))).toBeGreaterThan(0);
        expect(readdirSync(join(cwd, 'state'))).toEqual([]);
        expect(readdirSync(join(cwd, 'store'))).toContain('layers');
        expect(mountPoints().filter((m) => !before.includes(m))).toEqual([]);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  });

  describe('exit statuses of run: the container\'s, or podman\'s 125/126/127 for tsrun\'s own failures (issue 13)', () => {
    it('the container\'s exit 1 is 1; exit 125 of the container is passed through too', async () => {
      expect((await runScript('exit 1')).exitCode).toBe(1);
      expect((await runScript('exit 125')).exitCode).toBe(125);
    });

    it('a program that does not exist: 127', async () => {
      const bundle = makeBundle({ mutate: (s) => { s.process!.args = ['/no/such/program']; } });
      const r = await runBundle(bundle);
      expect(r.stderr).toMatch(/ENOENT/);
      expect(r.exitCode).toBe(127);
    });

    it('a program that cannot be executed (not executable; a directory, as podman\'s test): 126', async () => {
      const bundle = makeBundle({
        mutate: (s, b) => {
          s.root!.readonly = false;
          writeFileSync(join(b.rootfs, 'not-executable'), '#!/bin/sh\necho ran\n');
          chmodSync(join(b.rootfs, 'not-executable'), 0o644);
          s.process!.args = ['/not-executable'];
        },
      });
      const r = await runBundle(bundle);
      expect(r.stderr).toMatch(/EACCES/);
      expect(r.exitCode).toBe(126);
      const dir = makeBundle({ mutate: (s) => { s.process!.args = ['/etc']; } });
      const d = await runBundle(dir);
      expect(d.stderr).toMatch(/^tsrun: /);
      expect(d.exitCode).toBe(126);
    });

    it('a usage error of run is 125 too (podman run --foobar)', async () => {
      const { runTsrun } = await import('../../helpers/bundle.js');
      const r = await runTsrun(['run', '--foobar']);
      expect(r.stderr).toMatch(/--foobar/);
      expect(r.exitCode).toBe(125);
    });
  });
});
