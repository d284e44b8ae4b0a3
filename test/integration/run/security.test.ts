// Lock-down of a real container: read-only root, masked and read-only paths, capability sets,
// no_new_privs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runScript } from '../../helpers/bundle.js';

const skip = cannotRunContainers();

/** Linux capability numbers (include/uapi/linux/capability.h), written out independently of src/. */
const CAP_NUMBERS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5,
  CAP_SETGID: 6, CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17, CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23, CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28, CAP_AUDIT_WRITE: 29, CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

const hexMask = (names: readonly string[] = []): string => {
  let m = 0n;
  for (const n of names) {
    const bit = CAP_NUMBERS[n];
    if (bit === undefined) throw new Error(`unknown capability ${n} in test`);
    m |= 1n << BigInt(bit);
  }
  return m.toString(16).padStart(16, '0');
};

/** The Cap* and NoNewPrivs lines of /proc/self/status, as a record. */
const statusFields = (stdout: string): Record<string, string> =>
  Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(/:\s+/) as [string, string]));

const STATUS = 'grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status';

describe.skipIf(skip !== undefined)(`tsrun run: lock-down${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  describe('root.readonly', () => {
    it('readonly root refuses writes with EROFS, and nothing lands in the rootfs', async () => {
      const r = await runScript('touch /x; echo rc=$?', { readonlyRoot: true });
      expect(r.stderr).toMatch(/touch: \/x: Read-only file system/);
      expect(r.stdout).toBe('rc=1\n');
      expect(existsSync(join(r.bundle.rootfs, 'x'))).toBe(false);
    });

    it('readonly root still has writable tmpfs mounts (/dev/shm)', async () => {
      const r = await runScript('echo ok > /dev/shm/f && cat /dev/shm/f', { readonlyRoot: true });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('ok\n');
    });

    it('a writable root takes writes, which land in the bundle\'s rootfs', async () => {
      const r = await runScript('echo written > /x && cat /x', { readonlyRoot: false });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('written\n');
      expect(existsSync(join(r.bundle.rootfs, 'x'))).toBe(true);
    });
  });

  describe('linux.maskedPaths', () => {
    // This host's kernel has no /proc/kcore; /proc/timer_list exists and has content (root-readable).
    it('a masked file reads empty (/proc/timer_list) and a masked directory lists empty (/sys/firmware)', async () => {
      const r = await runScript('wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l; echo done', {
        mutate: (s) => { s.linux!.maskedPaths = ['/proc/timer_list', '/sys/firmware', '/proc/kcore']; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('0\n0\ndone\n');
    });

    // A masked file is /dev/null bound over it (as runc does): writes vanish, reads stay empty.
    it('writes to a masked file vanish; a masked directory cannot be written to', async () => {
      const r = await runScript('echo x > /proc/timer_list; wc -c < /proc/timer_list; touch /sys/firmware/f; echo rc2=$?', {
        mutate: (s) => { s.linux!.maskedPaths = ['/proc/timer_list', '/sys/firmware']; },
      });
      expect(r.stdout).toBe('0\nrc2=1\n');
      expect(r.stderr).toMatch(/touch: \/sys\/firmware\/f: Read-only file system/);
    });

    it('without the masks the same paths have content (so the masking tests can fail)', async () => {
      const r = await runScript('wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l', {
        mutate: (s) => { s.linux!.maskedPaths = []; },
      });
      expect(r.stderr).toBe('');
      const [bytes, count] = r.stdout.trim().split('\n');
      expect(Number(bytes)).toBeGreaterThan(0);
      expect(Number(count)).toBeGreaterThan(0);
    });

    it('a masked path that does not exist is skipped', async () => {
      const r = await runScript('echo ran', {
        mutate: (s) => { s.linux!.maskedPaths = ['/proc/does-not-exist', '/proc/kcore']; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('ran\n');
      expect(r.exitCode).toBe(0);
    });
  });

  describe('linux.readonlyPaths', () => {
    it('/proc/sys is read-only: writing a kernel parameter fails with EROFS', async () => {
      const r = await runScript('echo 1 > /proc/sys/kernel/ns_last_pid; echo rc=$?; cat /proc/sys/kernel/ostype');
      expect(r.stderr).toMatch(/can't create \/proc\/sys\/kernel\/ns_last_pid: Read-only file system/);
      expect(r.stdout).toBe('rc=1\nLinux\n');
    });

    it('/proc/sys is read-only for the container\'s own network namespace too', async () => {
      const r = await runScript('echo 99 > /proc/sys/net/ipv4/ip_default_ttl; echo rc=$?; cat /proc/sys/net/ipv4/ip_default_ttl');
      expect(r.stderr).toMatch(/can't create \/proc\/sys\/net\/ipv4\/ip_default_ttl: Read-only file system/);
      expect(r.stdout).toBe('rc=1\n64\n');
    });

    it('without readonlyPaths the same write succeeds (so the tests above can fail)', async () => {
      const r = await runScript('echo 99 > /proc/sys/net/ipv4/ip_default_ttl; echo rc=$?; cat /proc/sys/net/ipv4/ip_default_ttl', {
        mutate: (s) => { s.linux!.readonlyPaths = []; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('rc=0\n99\n');
    });

    it('each read-only path is a read-only mount inside; /proc itself stays writable (oom_score_adj)', async () => {
      const r = await runScript(
        'for p in /proc/bus /proc/fs /proc/irq /proc/sys; do echo "$p $(grep " $p " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1)"; done; '
        + 'ls /proc/bus | wc -l; echo 500 > /proc/self/oom_score_adj && cat /proc/self/oom_score_adj',
      );
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines.slice(0, 4)).toEqual(['/proc/bus ro', '/proc/fs ro', '/proc/irq ro', '/proc/sys ro']);
      expect(Number(lines[4])).toBeGreaterThan(0);
      expect(lines[5]).toBe('500');
    });
  });

  describe('process.capabilities', () => {
    it('the sample\'s sets: bounding/effective/permitted as configured, ambient only what is also inheritable', async () => {
      const r = await runScript(STATUS);
      expect(r.stderr).toBe('');
      const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
      expect(statusFields(r.stdout)).toEqual({
        CapInh: hexMask([]), CapPrm: hexMask(caps), CapEff: hexMask(caps), CapBnd: hexMask(caps),
        // The sample lists ambient caps without inheritable ones: the kernel cannot raise them.
        CapAmb: hexMask([]), NoNewPrivs: '1',
      });
      expect(hexMask(caps)).toBe('0000000020000420');
    });

    it('CAP_SYS_ADMIN added to every set (with inheritable, so ambient is raised too)', async () => {
      const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN'];
      const r = await runScript(STATUS, {
        mutate: (s) => {
          s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
        },
      });
      expect(r.stderr).toBe('');
      const m = hexMask(caps);
      expect(statusFields(r.stdout)).toEqual({ CapInh: m, CapPrm: m, CapEff: m, CapBnd: m, CapAmb: m, NoNewPrivs: '1' });
    });

    it('CAP_SYS_ADMIN actually works inside (mount a tmpfs), and is refused without it', async () => {
      const caps = ['CAP_SYS_ADMIN'];
      const script = 'mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted';
      const withCap = await runScript(script, {
        mutate: (s) => { s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps }; },
      });
      expect(withCap.stderr).toBe('');
      expect(withCap.stdout).toBe('mounted\n');
      const without = await runScript(script);
      expect(without.stdout).toBe('');
      expect(without.stderr).toMatch(/mount: permission denied|Operation not permitted/);
    });

    it('empty capability sets: every mask is zero', async () => {
      const r = await runScript(STATUS, {
        mutate: (s) => { s.process!.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] }; },
      });
      expect(r.stderr).toBe('');
      const z = hexMask([]);
      expect(statusFields(r.stdout)).toEqual({ CapInh: z, CapPrm: z, CapEff: z, CapBnd: z, CapAmb: z, NoNewPrivs: '1' });
    });

    // For uid 0 the kernel raises effective to permitted at exec; no_new_privs keeps permitted from
    // growing to the bounding set. So only inheritable, permitted and bounding show the config.
    it('different sets (uid 0): bounding wider than permitted; effective = permitted after exec as root', async () => {
      const r = await runScript(STATUS, {
        mutate: (s) => {
          s.process!.capabilities = {
            bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID'],
            permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
            effective: ['CAP_CHOWN'],
            inheritable: ['CAP_KILL'],
          };
        },
      });
      expect(r.stderr).toBe('');
      expect(statusFields(r.stdout)).toEqual({
        CapInh: hexMask(['CAP_KILL']), CapPrm: hexMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW']),
        CapEff: hexMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW']), CapBnd: hexMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID']),
        CapAmb: hexMask([]), NoNewPrivs: '1',
      });
    });

    it('a non-root user: only effective ∩ ambient survive exec (no file capabilities); bounding and inheritable as configured', async () => {
      const r = await runScript(`id -u; ${STATUS}`, {
        mutate: (s) => {
          s.process!.user = { uid: 1000, gid: 1000 };
          s.process!.capabilities = {
            bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID'],
            permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
            effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
            inheritable: ['CAP_KILL', 'CAP_NET_RAW'],
            ambient: ['CAP_KILL'],
          };
        },
      });
      expect(r.stderr).toBe('');
      const [uid, ...rest] = r.stdout.split('\n');
      expect(uid).toBe('1000');
      expect(statusFields(rest.join('\n'))).toEqual({
        CapInh: hexMask(['CAP_KILL', 'CAP_NET_RAW']), CapPrm: hexMask(['CAP_KILL']), CapEff: hexMask(['CAP_KILL']),
        CapBnd: hexMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SETUID']), CapAmb: hexMask(['CAP_KILL']), NoNewPrivs: '1',
      });
    });

    it('a non-root user keeps the configured capabilities across the uid switch', async () => {
      const caps = ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'];
      const r = await runScript(`id -u; ${STATUS}`, {
        mutate: (s) => {
          s.process!.user = { uid: 1000, gid: 1000 };
          s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
        },
      });
      expect(r.stderr).toBe('');
      const [uid, ...rest] = r.stdout.split('\n');
      expect(uid).toBe('1000');
      const m = hexMask(caps);
      expect(statusFields(rest.join('\n'))).toEqual({ CapInh: m, CapPrm: m, CapEff: m, CapBnd: m, CapAmb: m, NoNewPrivs: '1' });
    });
  });

  describe('process.noNewPrivileges', () => {
    it('true sets NoNewPrivs', async () => {
      const r = await runScript('grep NoNewPrivs /proc/self/status', { mutate: (s) => { s.process!.noNewPrivileges = true; } });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('NoNewPrivs:\t1\n');
    });

    it('false leaves it unset', async () => {
      const r = await runScript('grep NoNewPrivs /proc/self/status', { mutate: (s) => { s.process!.noNewPrivileges = false; } });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('NoNewPrivs:\t0\n');
    });

    it('absent leaves it unset', async () => {
      const r = await runScript('grep NoNewPrivs /proc/self/status', { mutate: (s) => { delete s.process!.noNewPrivileges; } });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('NoNewPrivs:\t0\n');
    });
  });
});
