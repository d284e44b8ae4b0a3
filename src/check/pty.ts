// Pseudo-terminals, for `process.terminal: true`. Opening /dev/ptmx creates a new pty pair; the
// other end appears in a devpts filesystem. Each container mounts its own devpts instance, so it
// sees only its own ptys, numbered from 0.
import { parseMountInfo } from '../host/mountinfo.js';
import { parseFilesystems } from './proc-filesystems.js';
import { item, type CheckItem } from './report.js';

export interface DeviceNode {
  kind: 'char' | 'block' | 'other';
  major: number;
  minor: number;
}

export interface PtyInputs {
  /** stat() of /dev/ptmx (following a symlink to pts/ptmx), or undefined when it does not exist. */
  ptmx: DeviceNode | undefined;
  filesystems: string;
  mountinfo: string;
}

/** The pty multiplexer is always character device 5:2. */
function ptmxItem(ptmx: DeviceNode | undefined): CheckItem {
  const fix = 'containers with process.terminal cannot get a terminal; mknod -m 666 /dev/ptmx c 5 2';
  if (!ptmx) return item('pty', '/dev/ptmx', 'missing', '/dev/ptmx does not exist', fix);
  if (ptmx.kind !== 'char' || ptmx.major !== 5 || ptmx.minor !== 2) {
    return item('pty', '/dev/ptmx', 'warn', `/dev/ptmx is not the pty multiplexer (expected char 5:2, found ${ptmx.kind} ${ptmx.major}:${ptmx.minor})`, fix);
  }
  return item('pty', '/dev/ptmx', 'ok', 'char 5:2, the pty multiplexer: each open() creates a new terminal pair for process.terminal');
}

function devptsItem(filesystems: string, mountinfo: string): CheckItem {
  if (!parseFilesystems(filesystems).has('devpts')) {
    return item('pty', 'devpts', 'missing', 'the kernel has no devpts filesystem',
      'no container can have a terminal; use a kernel with CONFIG_UNIX98_PTYS');
  }
  const mount = parseMountInfo(mountinfo).find((m) => m.fsType === 'devpts');
  if (!mount) {
    return item('pty', 'devpts', 'warn', 'devpts is supported but not mounted on this host: host-side ptys are unavailable',
      'mount -t devpts devpts /dev/pts');
  }
  return item('pty', 'devpts', 'ok', `mounted at ${mount.mountPoint}; each container mounts a fresh instance at its own /dev/pts, so its pty numbers are private`);
}

export function probePty(input: PtyInputs): CheckItem[] {
  return [ptmxItem(input.ptmx), devptsItem(input.filesystems, input.mountinfo)];
}
