// Overlayfs stacks image layers (read-only lowers + one writable upper) into a container's rootfs
// without copying them. A deletion ("whiteout") is a 0/0 character device, which the kernel lets a user
// namespace create too; an opaque directory (and overlay's other metadata: redirects, origins) is an
// xattr: in the trusted.* namespace, which only real root may use, or with `userxattr` in user.*, which
// is what makes overlay usable inside a user namespace (kernel docs, overlayfs.rst).
import { kernelAtLeast, parseKernelRelease } from './kernel.js';
import { parseFilesystems } from './proc-filesystems.js';
import { item, type CheckItem } from './report.js';

export interface OverlayInputs {
  /** Contents of /proc/filesystems. */
  filesystems: string;
  kernelRelease: string;
  /** From the privileges probe: false when this process already runs inside a user namespace. */
  initialUserNamespace: boolean;
}

function userxattrItem(input: OverlayInputs): CheckItem {
  const supported = kernelAtLeast(parseKernelRelease(input.kernelRelease), 5, 11);
  if (!input.initialUserNamespace) {
    return supported
      ? item('overlay', 'userxattr', 'ok', 'needed here, and supported (5.11): this process is in a user namespace, where trusted.* xattrs are off-limits, so overlay must mark opaque directories (and keep its other metadata) in user.overlay.* xattrs; whiteouts are 0/0 character devices either way')
      : item('overlay', 'userxattr', 'missing', 'needed here but not supported: overlay can be mounted inside a user namespace only from kernel 5.11',
        'image layers cannot be stacked here; use a kernel >= 5.11 or run tsrun as root on the host');
  }
  return supported
    ? item('overlay', 'userxattr', 'ok', 'not needed as root on the host: opaque directories are marked in trusted.overlay.* xattrs, which root may write (whiteouts are 0/0 character devices either way); rootless containers need it, and this kernel has it (5.11)')
    : item('overlay', 'userxattr', 'warn', 'not needed as root on the host, but this kernel lacks it (5.11), so rootless containers cannot use overlay',
      'rootless containers cannot stack image layers; use a kernel >= 5.11 or run as root');
}

export function probeOverlay(input: OverlayInputs): CheckItem[] {
  if (!parseFilesystems(input.filesystems).has('overlay')) {
    return [item('overlay', 'overlayfs', 'missing', 'overlay is not in /proc/filesystems: image layers cannot be stacked into a rootfs',
      'bundles with a plain rootfs directory still run; load the module with `modprobe overlay` (CONFIG_OVERLAY_FS)')];
  }
  return [
    item('overlay', 'overlayfs', 'ok', 'overlay is in /proc/filesystems: image layers are stacked, not copied, and each container writes to its own upper dir'),
    userxattrItem(input),
  ];
}
