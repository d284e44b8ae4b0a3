// Device nodes every container gets (the runtime-spec's "default devices"), plus linux.devices.
// Without a user namespace they are created with mknod; inside one, mknod is refused by the kernel,
// so the host's node is bind-mounted instead (what runc and crun do too).
import type { Device } from '../oci/types.js';
import { MS } from '../abi/linux.js';
import type { Step } from '../abi/steps.js';

export const DEFAULT_DEVICES: Required<Pick<Device, 'type' | 'path' | 'major' | 'minor' | 'fileMode'>>[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666 },
];

export function deviceSteps(devices: readonly Device[], inUserNamespace: boolean, field: (i: number) => string | undefined): Step[] {
  return devices.flatMap((d, i): Step[] => {
    const f = field(i);
    if (inUserNamespace) {
      return [{
        op: 'mount', source: d.path, target: d.path, fstype: '', data: '', flags: MS.BIND, mkdir: 'file', inRoot: true,
        why: `device ${d.path}: a user namespace may not mknod, so bind-mount the host's node`, ...(f ? { field: f } : {}),
      }];
    }
    const type = d.type === 'u' ? 'c' : d.type;
    return [{
      op: 'mknod', path: d.path, type, mode: d.fileMode ?? 0o666, major: d.major ?? 0, minor: d.minor ?? 0,
      uid: d.uid ?? 0, gid: d.gid ?? 0,
      why: `device ${d.path} (${type} ${d.major ?? 0}:${d.minor ?? 0}) so programs find it at its usual path`,
      ...(f ? { field: f } : {}),
    }];
  });
}

/** The standard /dev symlinks (runtime-spec "default devices" and what programs expect). */
export function devSymlinkSteps(hasProc: boolean, hasDevPts: boolean): Step[] {
  const links: [string, string][] = [];
  if (hasProc) {
    links.push(['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'], ['/proc/kcore', '/dev/core']);
  }
  if (hasDevPts) links.push(['pts/ptmx', '/dev/ptmx']);
  return links.map(([target, linkpath]) => ({
    op: 'symlink', target, linkpath,
    why: linkpath === '/dev/ptmx' ? 'ptys come from the container\'s own devpts instance' : `${linkpath} is a conventional alias of ${target}`,
  }));
}
