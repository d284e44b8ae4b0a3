import { describe, expect, it } from 'vitest';
import { probePty } from '../../../src/check/pty.js';
import { MOUNTINFO_HYBRID, MOUNTINFO_NO_CGROUPS, THIS_HOST_FILESYSTEMS } from './samples.js';

const PTMX = { kind: 'char', major: 5, minor: 2 } as const;

describe('probePty', () => {
  it('on this host: /dev/ptmx is 5:2 and devpts is mounted at /dev/pts', () => {
    const items = probePty({ ptmx: PTMX, filesystems: THIS_HOST_FILESYSTEMS, mountinfo: MOUNTINFO_HYBRID });
    expect(items.map((i) => i.status)).toEqual(['ok', 'ok']);
    expect(items[1]?.detail).toMatch(/^mounted at \/dev\/pts/);
  });

  it('reports a missing or wrong /dev/ptmx with mknod as the fix', () => {
    const missing = probePty({ ptmx: undefined, filesystems: THIS_HOST_FILESYSTEMS, mountinfo: MOUNTINFO_HYBRID });
    expect(missing[0]).toMatchObject({ status: 'missing', fix: expect.stringContaining('mknod') });
    const wrong = probePty({ ptmx: { kind: 'other', major: 0, minor: 0 }, filesystems: THIS_HOST_FILESYSTEMS, mountinfo: MOUNTINFO_HYBRID });
    expect(wrong[0]?.status).toBe('warn');
  });

  it('devpts supported but not mounted: warn; not supported at all: missing', () => {
    expect(probePty({ ptmx: PTMX, filesystems: THIS_HOST_FILESYSTEMS, mountinfo: MOUNTINFO_NO_CGROUPS })[1]?.status).toBe('warn');
    const noDevpts = THIS_HOST_FILESYSTEMS.replace('nodev\tdevpts\n', '');
    expect(probePty({ ptmx: PTMX, filesystems: noDevpts, mountinfo: MOUNTINFO_HYBRID })[1]?.status).toBe('missing');
  });
});
