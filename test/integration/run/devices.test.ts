// /dev of a real container: the default devices, the standard symlinks, devpts, and linux.devices.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cannotRunContainers, containerTestHooks, runScript } from '../../helpers/bundle.js';

const skip = cannotRunContainers();

/** `stat` of each path as "path type major:minor mode uid:gid" (major/minor in decimal). */
const STAT = (paths: string[]): string =>
  `for p in ${paths.join(' ')}; do if [ -e "$p" ]; then set -- $(stat -c "%F|%t|%T|%a|%u|%g" "$p" | tr " " _ | tr "|" " "); `
  + 'echo "$p $1 $((0x$2)):$((0x$3)) $4 $5:$6"; else echo "$p missing"; fi; done';

describe.skipIf(skip !== undefined)(`tsrun run: /dev${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  it('the default devices exist with the right type, numbers and mode', async () => {
    const r = await runScript(STAT(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']));
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual([
      '/dev/null character_special_file 1:3 666 0:0',
      '/dev/zero character_special_file 1:5 666 0:0',
      '/dev/full character_special_file 1:7 666 0:0',
      '/dev/random character_special_file 1:8 666 0:0',
      '/dev/urandom character_special_file 1:9 666 0:0',
      '/dev/tty character_special_file 5:0 666 0:0',
    ]);
  });

  it('the default devices work (null swallows, zero is zeros, full is ENOSPC, urandom gives bytes)', async () => {
    const r = await runScript([
      'echo gone > /dev/null; wc -c < /dev/null',
      'head -c 4 /dev/zero | od -An -tx1',
      'echo x > /dev/full; echo full-rc=$?',
      'head -c 32 /dev/urandom | wc -c',
    ].join('; '), { mutate: (s) => { s.process!.user = { uid: 1000, gid: 1000 }; } });
    expect(r.stdout.split('\n').map((l) => l.trim())).toEqual(['0', '00 00 00 00', 'full-rc=1', '32', '']);
    expect(r.stderr).toMatch(/No space left on device/);
  });

  // (Opening /dev/stdout is not tested: under execa fd 1 is a socket, and sockets cannot be opened via /proc.)
  it('the standard /dev symlinks point where they should, and /dev/fd, /dev/stdin work', async () => {
    const r = await runScript('for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done; ls /dev/fd/ | head -3 | tr "\\n" " "; echo; head -c 5 /dev/stdin < /etc/passwd; echo');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe([
      'fd -> /proc/self/fd', 'stdin -> /proc/self/fd/0', 'stdout -> /proc/self/fd/1', 'stderr -> /proc/self/fd/2', 'ptmx -> pts/ptmx',
      '0 1 2 ', 'root:', '',
    ].join('\n'));
  });

  it('/dev/pts is a private devpts instance (no host ptys) with a usable ptmx', async () => {
    const r = await runScript('ls /dev/pts | tr "\\n" " "; echo; stat -c "%a" /dev/pts/ptmx; grep " /dev/pts " /proc/self/mountinfo | sed "s/.* - //" | cut -d" " -f1');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ptmx \n666\ndevpts\n');
  });

  it('/dev is a tmpfs with mode 755; /dev/shm is a tmpfs with mode 1777', async () => {
    const r = await runScript('stat -c "%a" /dev /dev/shm; grep -E " /dev(/shm)? " /proc/self/mountinfo | sed "s/^[^ ]* [^ ]* [^ ]* [^ ]* \\([^ ]*\\) .* - \\([^ ]*\\) .*/\\1 \\2/"');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('755\n1777\n/dev tmpfs\n/dev/shm tmpfs\n');
  });

  describe('linux.devices', () => {
    it('a char device (/dev/loop-control 10:237) appears with type, numbers, mode and owner', async () => {
      const r = await runScript(STAT(['/dev/loop-control']), {
        mutate: (s) => { s.linux!.devices = [{ path: '/dev/loop-control', type: 'c', major: 10, minor: 237, fileMode: 0o660, uid: 0, gid: 6 }]; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('/dev/loop-control character_special_file 10:237 660 0:6\n');
    });

    it('a block device, a fifo and a device in a sub-directory of /dev', async () => {
      const r = await runScript(STAT(['/dev/loop7', '/dev/myfifo', '/dev/net/tun']), {
        mutate: (s) => {
          s.linux!.devices = [
            { path: '/dev/loop7', type: 'b', major: 7, minor: 7, fileMode: 0o640, uid: 0, gid: 0 },
            { path: '/dev/myfifo', type: 'p', fileMode: 0o600, uid: 1000, gid: 1000 },
            { path: '/dev/net/tun', type: 'c', major: 10, minor: 200, fileMode: 0o666 },
          ];
        },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim().split('\n')).toEqual([
        '/dev/loop7 block_special_file 7:7 640 0:0',
        '/dev/myfifo fifo 0:0 600 1000:1000',
        '/dev/net/tun character_special_file 10:200 666 0:0',
      ]);
    });

    it('a configured device replaces the default one at the same path', async () => {
      const r = await runScript(STAT(['/dev/null']), {
        mutate: (s) => { s.linux!.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 0, gid: 0 }]; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('/dev/null character_special_file 1:3 600 0:0\n');
    });

    it('the device node works (reading /dev/zero created as /dev/myzero)', async () => {
      const r = await runScript('head -c 3 /dev/myzero | od -An -tx1', {
        mutate: (s) => { s.linux!.devices = [{ path: '/dev/myzero', type: 'c', major: 1, minor: 5, fileMode: 0o644 }]; },
      });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('00 00 00');
    });
  });
});
