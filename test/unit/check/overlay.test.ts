import { describe, expect, it } from 'vitest';
import { probeOverlay } from '../../../src/check/overlay.js';
import { parseFilesystems } from '../../../src/check/proc-filesystems.js';
import { FILESYSTEMS_NO_OVERLAY, THIS_HOST_FILESYSTEMS } from './samples.js';

describe('parseFilesystems', () => {
  it('reads names with and without the nodev column', () => {
    const fs = parseFilesystems(THIS_HOST_FILESYSTEMS);
    expect(fs.has('overlay')).toBe(true);
    expect(fs.has('ext4')).toBe(true);
    expect(fs.has('nodev')).toBe(false);
  });
});

describe('probeOverlay', () => {
  it('as root on this host: overlay ok, userxattr not needed but available for rootless', () => {
    const items = probeOverlay({ filesystems: THIS_HOST_FILESYSTEMS, kernelRelease: '6.18.44', initialUserNamespace: true });
    expect(items.map((i) => [i.name, i.status])).toEqual([['overlayfs', 'ok'], ['userxattr', 'ok']]);
    expect(items[1]?.detail).toMatch(/not needed.*trusted\.overlay/);
  });

  // overlayfs.rst, "whiteouts and opaque directories": a whiteout is a 0/0 character device; only an
  // opaque directory (and overlay's other metadata) is an xattr.
  it('says whiteouts are 0/0 character devices and opaque directories the xattr, never whiteouts in xattrs', () => {
    for (const initialUserNamespace of [true, false]) {
      const detail = probeOverlay({ filesystems: THIS_HOST_FILESYSTEMS, kernelRelease: '6.1.0', initialUserNamespace })[1]!.detail;
      expect(detail).not.toMatch(/whiteouts (go to|in) [a-z.*]*xattr|whiteouts in (user|trusted)\.overlay/);
      expect(detail).toMatch(/opaque directories .*(trusted|user)\.overlay\.\* xattrs/);
      expect(detail).toMatch(/whiteouts are 0\/0 character devices/);
    }
  });

  it('inside a user namespace: userxattr is needed, and explained', () => {
    const items = probeOverlay({ filesystems: THIS_HOST_FILESYSTEMS, kernelRelease: '6.1.0', initialUserNamespace: false });
    expect(items[1]).toMatchObject({ status: 'ok', detail: expect.stringMatching(/needed here.*user\.overlay/) });
  });

  it('inside a user namespace on a kernel before 5.11: missing', () => {
    const items = probeOverlay({ filesystems: THIS_HOST_FILESYSTEMS, kernelRelease: '5.10.0-28-amd64', initialUserNamespace: false });
    expect(items[1]).toMatchObject({ status: 'missing', fix: expect.stringContaining('5.11') });
  });

  it('without overlay: missing, with modprobe as the fix and no userxattr item', () => {
    const items = probeOverlay({ filesystems: FILESYSTEMS_NO_OVERLAY, kernelRelease: '6.1.0', initialUserNamespace: true });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'missing', fix: expect.stringContaining('modprobe overlay') });
  });
});
