// Namespaces of a real container: PID 1, its own /proc, hostname/domainname, a fresh network
// namespace with only `lo`, sysctls scoped to it, and a user namespace mapping root to a host uid.
import { chmodSync, chownSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { REPO, cannotRunContainers, containerTestHooks, poll, runScript } from '../../helpers/bundle.js';

const skip = cannotRunContainers();

describe.skipIf(skip !== undefined)(`tsrun run: namespaces${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('the container process is PID 1 of a new PID namespace', async () => {
    const r = await runScript('echo "pid=$$ ppid=$PPID"');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('pid=1 ppid=0\n');
    expect(r.exitCode).toBe(0);
  });

  it('/proc shows only the container\'s processes', async () => {
    // The glob is expanded by PID 1 itself (echo is a builtin): no other process exists.
    const r = await runScript('echo /proc/[0-9]*; sleep 0.2 & ls -d /proc/[0-9]* | sort -n | tr "\\n" " "; wait');
    expect(r.stdout.split('\n')[0]).toBe('/proc/1');
    // PID 1, the backgrounded sleep, and the ls (and sort/tr of the pipeline): all small numbers.
    const pids = r.stdout.split('\n')[1]!.trim().split(' ').map((p) => Number(p.replace('/proc/', '')));
    expect(pids[0]).toBe(1);
    expect(Math.max(...pids)).toBeLessThan(20);
    expect(r.exitCode).toBe(0);
  });

  it('sets hostname and domainname in a new UTS namespace (the host keeps its own)', async () => {
    const hostBefore = readFileSync('/proc/sys/kernel/hostname', 'utf8');
    const domainBefore = readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const r = await runScript('hostname; uname -n; cat /proc/sys/kernel/domainname', {
      mutate: (s) => { s.hostname = 'box-under-test'; s.domainname = 'example.test'; },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('box-under-test\nbox-under-test\nexample.test\n');
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8')).toBe(hostBefore);
    expect(readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(domainBefore);
  });

  it('without hostname in the config, a new UTS namespace keeps the host\'s name', async () => {
    const host = readFileSync('/proc/sys/kernel/hostname', 'utf8');
    const r = await runScript('hostname', { mutate: (s) => { delete s.hostname; } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(host);
  });

  // (The host's PID 1 has capabilities this test process lacks, so its /proc/1/ns/* cannot be
  // opened here: join a network namespace held by a helper process instead.)
  it('joining a namespace by path: the container is in the helper\'s network namespace', async () => {
    const helper = spawn('unshare', ['--net', 'sleep', '30'], { stdio: 'ignore' });
    try {
      const path = `/proc/${helper.pid}/ns/net`;
      const want = await poll(() => {
        try {
          const ns = readlinkSync(path);
          return ns !== readlinkSync('/proc/self/ns/net') ? ns : undefined;
        } catch {
          return undefined;
        }
      }, 5_000, 'the helper\'s new network namespace');
      const r = await runScript('readlink /proc/self/ns/net; ls /sys/class/net', {
        mutate: (s) => {
          s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path } : n));
        },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${want}\nlo\n`);
    } finally {
      helper.kill('SIGKILL');
    }
  });

  it('joining a namespace by a path that is not a namespace names linux.namespaces and runs nothing', async () => {
    const r = await runScript('echo ran', {
      mutate: (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/etc/hostname' } : n));
      },
    });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/linux\.namespaces/);
    expect(r.exitCode).not.toBe(0);
  });

  // Up since issue 17 (the loopbackUp step), as runc and crun give it: test/integration/network/loopback.test.ts.
  it('a new network namespace has only lo, and it is up', async () => {
    const r = await runScript('ls /sys/class/net; echo ---; ip -o link');
    expect(r.stderr).toBe('');
    const [sys, ip] = r.stdout.split('---\n');
    expect(sys).toBe('lo\n');
    const links = ip!.trim().split('\n');
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP> mtu \d+ qdisc noqueue .*link\/loopback 00:00:00:00:00:00/);
  });

  it('without a network namespace the container sees the host\'s interfaces', async () => {
    const hostIfaces = execFileSync('ls', ['/sys/class/net'], { encoding: 'utf8' });
    const r = await runScript('ls /sys/class/net', {
      mutate: (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'); },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(hostIfaces);
  });

  it('linux.sysctl is written in the container\'s network namespace, not the host\'s', async () => {
    const hostBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const r = await runScript('cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_default_ttl', {
      mutate: (s) => { s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'net.ipv4.ip_default_ttl': '77' }; },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1\n77\n');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(hostBefore);
  });

  it('separate IPC namespace: a SysV/POSIX view of its own (mqueue mounted and empty)', async () => {
    const r = await runScript('ls -A /dev/mqueue | wc -l; grep " /dev/mqueue " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('0\nmqueue\n');
  });

  it('without clone3 (TSRUN_NO_CLONE3=1) the process is placed through cgroup.procs before its first step: same cgroup', async () => {
    const noCgroupNs = (s: Spec): void => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup'); };
    const r = await runScript('tail -1 /proc/self/cgroup', { env: { TSRUN_NO_CLONE3: '1' }, extraArgs: ['--trace'], mutate: noCgroupNs });
    expect(r.stdout).toMatch(/^0::\/tsrun\/[^/\n]+\n$/);
    expect(r.exitCode).toBe(0);
    // The clone line names its syscall: clone(2) here, clone3(2) normally.
    expect(r.stderr).toMatch(/^trace parent .* clone\(CLONE_VM\|CLONE_VFORK\|CLONE_NEW.*→ pid \d+, which execs tsrun-init +clone\(2\)$/m);
    const normal = await runScript('true', { extraArgs: ['--trace'], mutate: noCgroupNs });
    expect(normal.stderr).toMatch(/→ pid \d+, which execs tsrun-init +clone3\(2\)$/m);
  });

  it('placed by pid (no clone3; systemd\'s scope), the cgroup namespace is made once the process is in its cgroup: it is the root inside', async () => {
    const cgroupNs = (s: Spec): void => { s.linux!.namespaces!.push({ type: 'cgroup' }); };
    const r = await runScript('tail -1 /proc/self/cgroup', { env: { TSRUN_NO_CLONE3: '1' }, extraArgs: ['--trace'], mutate: cgroupNs });
    expect(r.stdout).toBe('0::/\n');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^trace step +0 ok .*unshare CLONE_NEWCGROUP/m);
    expect(r.stderr).toMatch(/^trace parent .* clone\((?!.*CLONE_NEWCGROUP).*→ pid \d+, which execs tsrun-init +clone\(2\)$/m);
  });

  describe('the first process execs tsrun-init right after clone (CLONE_VM|CLONE_VFORK): never a fork of Node', () => {
    // The pids in /proc are counted by the shell's own glob: a pipeline (ls | grep -c) raced its
    // second process against the listing, and gave 2 or 3.
    const probe = 'echo "pid=$$"; hostname; tail -1 /proc/self/cgroup; set -- /proc/[0-9]*; echo "$#: $*"';

    it('gives the same container as the two-stage spawn (TSRUN_TWO_STAGE=1: tsrun-init clones the container process): PID 1, hostname, cgroup, its own /proc', async () => {
      const oneStage = await runScript(probe, { extraArgs: ['--trace'] });
      const twoStage = await runScript(probe, { extraArgs: ['--trace'], env: { TSRUN_TWO_STAGE: '1' } });
      expect(oneStage.exitCode).toBe(0);
      expect(twoStage.exitCode).toBe(0);
      expect(oneStage.stdout).toMatch(/^pid=1\n[^\n]+\n0::\/tsrun\/[^\n]+\n1: \/proc\/1\n$/);
      expect(oneStage.stdout.replace(/0::\/tsrun\/[^\n]+/, 'CGROUP')).toBe(twoStage.stdout.replace(/0::\/tsrun\/[^\n]+/, 'CGROUP'));
      expect(oneStage.stderr).toMatch(/clone3\(CLONE_VM\|CLONE_VFORK\|CLONE_INTO_CGROUP\|CLONE_NEW.*→ pid \d+, which execs tsrun-init +clone3\(2\)$/m);
      expect(oneStage.stderr).not.toMatch(/clones the container process/);
      expect(twoStage.stderr).toMatch(/clone\(CLONE_VM\|CLONE_VFORK\) → pid \d+, which execs tsrun-init +clone\(2\)$/m);
      expect(twoStage.stderr).toMatch(/tsrun-init clones the container process: clone3\(CLONE_PARENT\|CLONE_INTO_CGROUP\|CLONE_NEW.*\) → pid \d+ +clone3\(2\)$/m);
    });

    it('a tsrun-init that cannot be executed: the error names execve tsrun-init and EACCES; nothing is left', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsrun-init-'));
      try {
        const fake = join(dir, 'tsrun-init');
        writeFileSync(fake, '#!/bin/sh\n', { mode: 0o644 });
        const r = await runScript('echo should-not-run', { env: { TSRUN_INIT: fake } });
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^tsrun: execve tsrun-init: EACCES/m);
        expect(r.exitCode).not.toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('a missing tsrun-init (TSRUN_INIT=<no such file>) is a one-line error naming it; there is no fallback to a fork of Node', async () => {
      const r = await runScript('echo should-not-run', { env: { TSRUN_INIT: '/nonexistent/tsrun-init' } });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^tsrun: tsrun-init \/nonexistent\/tsrun-init: ENOENT: run `make build`.*\n$/);
      expect(r.exitCode).not.toBe(0);
    });

    it('TSRUN_INIT="" (which once selected a fork of Node) is a one-line error; nothing is left', async () => {
      const r = await runScript('echo should-not-run', { env: { TSRUN_INIT: '' } });
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^tsrun: TSRUN_INIT is empty: .*fork of Node.*\n$/);
      expect(r.exitCode).not.toBe(0);
    });

    it('tsrun-init run by hand refuses with a message (exit 2)', () => {
      let status = 0;
      let stderr = '';
      try {
        execFileSync(join(REPO, 'native-bindings/build/tsrun-init'), [], { stdio: 'pipe' });
      } catch (err) {
        status = (err as { status: number }).status;
        stderr = String((err as { stderr: Buffer }).stderr);
      }
      expect(status).toBe(2);
      expect(stderr).toMatch(/started by tsrun .* not by hand/);
    });
  });

  it('--no-pivot: the rootfs is moved over / and chroot\'ed; the container runs and the host is untouched', async () => {
    const r = await runScript('ls /; cat /proc/self/mountinfo | wc -l', { extraArgs: ['--no-pivot', '--trace'] });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')).toContain('bin');
    expect(r.stderr).toMatch(/mount \. on \/ \(move\)/);
    expect(r.stderr).not.toMatch(/pivot_root \. \./);
  });

  it('a new cgroup namespace: the container\'s cgroup is its root ("0::/"), cgroup.procs lists only its processes', async () => {
    const r = await runScript('grep "^0::" /proc/self/cgroup; cat /sys/fs/cgroup/cgroup.procs | tr "\\n" " "', {
      mutate: (s) => { s.linux!.namespaces!.push({ type: 'cgroup' }); },
    });
    expect(r.stderr).toBe('');
    const [own, procs] = r.stdout.split('\n');
    expect(own).toBe('0::/');
    const pids = procs!.trim().split(' ').map(Number);
    expect(pids).toContain(1);
    // Processes outside the container's PID namespace would show as 0.
    expect(pids.filter((p) => p === 0 || p > 20)).toEqual([]);
  });

  describe('user namespace (root inside = 100000 outside)', () => {
    const HOST_ID = 100000;
    const withUserNs = (s: Parameters<NonNullable<Parameters<typeof runScript>[1]>['mutate'] & {}>[0]): void => {
      s.linux!.namespaces!.push({ type: 'user' }, { type: 'cgroup' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: HOST_ID, size: 65536 }];
    };
    const chownRootfs = (rootfs: string): void => {
      execFileSync('chown', ['-R', '-h', `${HOST_ID}:${HOST_ID}`, rootfs]);
    };

    it('uid 0 inside maps to the configured host uid (/proc/self/uid_map, gid_map)', async () => {
      const r = await runScript('cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g', {
        prepareRootfs: chownRootfs, mutate: withUserNs,
      });
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
      expect(lines).toEqual(['0 100000 65536', '0 100000 65536', '0', '0']);
      expect(r.exitCode).toBe(0);
    });

    it('a file created by root inside a writable bind mount is owned by 100000:100000 on the host', async () => {
      const hostDir = mkdtempSync(join(tmpdir(), 'tsrun-it-userns-'));
      try {
        chownSync(hostDir, HOST_ID, HOST_ID);
        chmodSync(hostDir, 0o755);
        const r = await runScript('echo made-inside > /shared/created && ls -ln /shared/created', {
          prepareRootfs: chownRootfs,
          mutate: (s) => {
            withUserNs(s);
            s.mounts!.push({ destination: '/shared', type: 'bind', source: hostDir, options: ['rbind', 'rw'] });
          },
        });
        expect(r.stderr).toBe('');
        // Inside, the owner is root…
        expect(r.stdout).toMatch(/^-rw-r--r--\s+1\s+0\s+0\s+12\s/);
        // …and on the host it is the mapped id.
        const st = statSync(join(hostDir, 'created'));
        expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: HOST_ID, gid: HOST_ID });
        expect(readFileSync(join(hostDir, 'created'), 'utf8')).toBe('made-inside\n');
      } finally {
        rmSync(hostDir, { recursive: true, force: true });
      }
    });

    it('root inside a user namespace cannot write to a host directory owned by real root', async () => {
      const hostDir = mkdtempSync(join(tmpdir(), 'tsrun-it-userns-'));
      try {
        chmodSync(hostDir, 0o755);
        writeFileSync(join(hostDir, 'keep'), 'host\n');
        const r = await runScript('cat /shared/keep; echo x > /shared/new', {
          prepareRootfs: chownRootfs,
          mutate: (s) => {
            withUserNs(s);
            s.mounts!.push({ destination: '/shared', type: 'bind', source: hostDir, options: ['rbind', 'rw'] });
          },
        });
        expect(r.stderr).not.toMatch(/^tsrun:/m);
        expect(r.stdout).toBe('host\n');
        expect(r.stderr).toMatch(/can't create \/shared\/new: Permission denied/);
        expect(r.exitCode).not.toBe(0);
      } finally {
        rmSync(hostDir, { recursive: true, force: true });
      }
    });

    it('devpts gid=5 is mapped (tty group inside), default devices are the host\'s nodes bound in and work', async () => {
      const r = await runScript([
        'grep " /dev/pts " /proc/self/mountinfo | grep -o "gid=[0-9]*"',
        'stat -c "%t:%T %F" /dev/null /dev/zero /dev/urandom',
        'echo gone > /dev/null && head -c 2 /dev/zero | od -An -tx1',
      ].join('; '), { prepareRootfs: chownRootfs, mutate: withUserNs });
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n').map((l) => l.trim())).toEqual([
        // devpts parsed gid=5 in the container's user namespace (host gid 100005); its mount options
        // always print the id as seen from the initial user namespace.
        'gid=100005',
        '1:3 character special file', '1:5 character special file', '1:9 character special file',
        '00 00', '',
      ]);
    });

    it('capabilities are those of the config, inside the user namespace', async () => {
      const r = await runScript('grep -E "^Cap(Prm|Eff|Bnd):" /proc/self/status', { prepareRootfs: chownRootfs, mutate: withUserNs });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('CapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\n');
    });

    it('sysfs is bound from the host when the user namespace has no new network namespace', async () => {
      const hostIfaces = execFileSync('ls', ['/sys/class/net'], { encoding: 'utf8' });
      const r = await runScript('ls /sys/class/net', {
        prepareRootfs: chownRootfs,
        mutate: (s) => {
          withUserNs(s);
          s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
        },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(hostIfaces);
    });
  });
});
