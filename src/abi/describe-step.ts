// One short line per step, in the words of the syscall it makes: used by error messages, `explain`
// and --trace, so a reader can find the code that built the step from the line alone.
import { capabilityNames } from './capabilities.js';
import { MNT_DETACH, RLIM_INFINITY } from './linux.js';
import { mountFlagNames } from './mount-flags.js';
import type { Step } from './steps.js';
import type { NamespaceType } from './namespaces.js';

/** The syscall a step makes, for the man page reference in --trace (`mount` → mount(2)). */
export function stepSyscall(s: Step): string {
  switch (s.op) {
    case 'mount': return 'mount';
    case 'umount': return 'umount2';
    case 'openRoot': case 'openKeep': return 'open';
    case 'mkdir': return 'mkdirat';
    case 'mknod': return 'mknodat';
    case 'symlink': return 'symlinkat';
    case 'pivotRoot': return 'pivot_root';
    case 'writeFile': return 'write';
    case 'bounding': case 'ambient': return 'prctl';
    case 'console': return 'ioctl_tty';
    case 'exec': return 'execve';
    case 'checkExec': return 'access';
    case 'newKeyring': return 'keyctl';
    case 'waitParent': case 'waitRead': return 'read';
    case 'stdinFrom': case 'dupFd': return 'dup2';
    case 'reopenDevNull': return 'dup3';
    case 'fchdir': return 'fchdir';
    case 'mask': return 'mount';
    case 'seccomp': return 'seccomp';
    case 'loopbackUp': return 'ioctl';
    default: return s.op.toLowerCase();
  }
}

/** The part of container set-up a step belongs to, for grouping the trace. */
export function stepGroup(s: Step): string {
  switch (s.op) {
    case 'sethostname': case 'setdomainname': return 'identity';
    case 'mknod': case 'symlink': return 'devices';
    case 'pivotRoot': case 'umount': case 'fchdir': return 'pivot_root';
    case 'mask': return 'lock down';
    case 'setrlimit': case 'console': case 'setsid': case 'umask': case 'reopenDevNull': return 'process';
    case 'bounding': case 'prctl': case 'capset': case 'ambient': case 'setgroups': case 'setresgid': case 'setresuid': return 'privileges';
    case 'exec': case 'waitRead': case 'waitParent': case 'openKeep': return 'start';
    case 'seccomp': return 'lock down';
    case 'unshare': case 'setns': return 'namespaces';
    case 'loopbackUp': return 'network';
    default: return s.field?.startsWith('linux.readonlyPaths') || s.field?.startsWith('linux.sysctl') || s.field === 'root.readonly' ? 'lock down' : 'rootfs';
  }
}

const octal = (n: number): string => '0' + n.toString(8);

export function describeStep(s: Step): string {
  switch (s.op) {
    case 'mount': {
      const flags = mountFlagNames(s.flags);
      const what = s.fstype ? `${s.fstype}${s.source && s.source !== s.fstype ? ` ${s.source}` : ''}` : s.source || '(flags)';
      const opts = [...flags, ...(s.data ? [s.data] : [])].join(',');
      return `mount ${what} on ${s.target}${opts ? ` (${opts})` : ''}`;
    }
    case 'umount': return `umount2 ${s.target}${s.flags & MNT_DETACH ? ' (MNT_DETACH)' : ''}`;
    case 'openRoot': return `open rootfs ${s.path}`;
    case 'mkdir': return `mkdir ${s.path} ${octal(s.mode)}`;
    case 'mknod': return `mknod ${s.path} ${s.type} ${s.major}:${s.minor} ${octal(s.mode)}`;
    case 'symlink': return `symlink ${s.linkpath} -> ${s.target}`;
    case 'chdir': return `chdir ${s.path}`;
    case 'fchdir': return `fchdir to the fd kept in slot ${s.slot}, and close it`;
    case 'pivotRoot': return `pivot_root ${s.newRoot} ${s.putOld}`;
    case 'chroot': return `chroot ${s.path}`;
    case 'sethostname': return `sethostname ${JSON.stringify(s.name)}`;
    case 'setdomainname': return `setdomainname ${JSON.stringify(s.name)}`;
    case 'writeFile': return `write ${JSON.stringify(s.content)} to ${s.path}`;
    case 'setrlimit': return `setrlimit ${s.name} soft=${fmtLimit(s.soft)} hard=${fmtLimit(s.hard)}`;
    case 'prctl': return `prctl ${s.name} ${s.args[0] ?? ''}`.trimEnd();
    case 'bounding': {
      // The shorter list is named, the longer one counted: `explain` prints the dropped names apart.
      const dropped = droppedFromBounding(s);
      if (s.keepNames.length === 0) return `bounding set: keep none, drop all ${dropped.length}`;
      return dropped.length >= s.keepNames.length
        ? `bounding set: keep [${s.keepNames.join(' ')}], drop the other ${dropped.length}`
        : `bounding set: drop [${dropped.join(' ')}], keep the other ${s.keepNames.length}`;
    }
    case 'capset': return s.effective === s.permitted
      ? `capset effective and permitted ${capList(s.effective)}, inheritable ${capList(s.inheritable)}`
      : `capset effective ${capList(s.effective)}, permitted ${capList(s.permitted)}, inheritable ${capList(s.inheritable)}`;
    case 'ambient': return `raise ambient [${s.names.join(' ')}]`;
    case 'setgroups': return `setgroups [${s.gids.join(' ')}]`;
    case 'setresgid': return `setresgid ${s.gid}`;
    case 'setresuid': return `setresuid ${s.uid}`;
    case 'mask': return `mask ${s.path}`;
    case 'reopenDevNull': return 'reopen stdio that is /dev/null read-write, from the container\'s /dev/null';
    case 'console': return `open a pty from /dev/ptmx (${s.rows}x${s.cols}), make it the controlling terminal`;
    case 'setsid': return 'setsid';
    case 'umask': return `umask ${octal(s.mask)}`;
    case 'exec': return `execve ${s.path ? `${s.path} ` : ''}${JSON.stringify(s.args)}`;
    case 'chown': return `chown ${s.path} ${s.uid}:${s.gid}`;
    case 'chmod': return `chmod ${s.path} ${octal(s.mode)}`;
    case 'waitParent': return 'wait for the parent';
    case 'openKeep': return `open ${s.path} and keep it (slot ${s.slot})`;
    case 'newKeyring': return 'join a new session keyring';
    case 'checkExec': return `find ${JSON.stringify(s.args[0])} in the container (PATH, executable)`;
    case 'stdinFrom': return `dup2 fd ${s.fd} (${s.path}) to stdin`;
    case 'dupFd': return `dup2 fd ${s.fd} to ${['stdin', 'stdout', 'stderr'][s.target] ?? `fd ${s.target}`}`;
    case 'waitRead': return `wait for \`tsrun start\` (read slot ${s.slot})`;
    case 'setns': return `setns ${s.type} ${s.path}`;
    case 'unshare': return `unshare ${s.names.join('|')}`;
    case 'loopbackUp': return 'ioctl SIOCSIFFLAGS lo IFF_UP';
    // File work beneath a directory (image/file-plan.ts): the op and its target.
    case 'chownBeneath': case 'removeTree': case 'setxattrBeneath': case 'exit': return `${s.op} ${'path' in s ? s.path : s.status}`;
    case 'seccomp': return `install seccomp filter: ${s.syscalls} syscalls, default ${s.defaultAction}, ${s.instructions} instructions${s.flags ? ` (flags 0x${s.flags.toString(16)})` : ''}`;
  }
}

const fmtLimit = (v: bigint): string => (v === RLIM_INFINITY ? 'unlimited' : String(v));
const hex = (v: bigint): string => '0x' + v.toString(16);

/** Capabilities 0..40, CAP_CHOWN to CAP_CHECKPOINT_RESTORE: the ones tsrun has names for. */
const KNOWN_CAPS = (1n << 41n) - 1n;

/** The capabilities a bounding step drops (every known one it does not keep). */
export function droppedFromBounding(s: Extract<Step, { op: 'bounding' }>): string[] {
  return capabilityNames(~s.keep & KNOWN_CAPS);
}

/** A capability set in few words: the names when there are few, else what is missing, else a count. */
export function capList(mask: bigint): string {
  const names = capabilityNames(mask & KNOWN_CAPS);
  if (names.length <= 8) return `[${names.join(' ')}]`;
  const missing = capabilityNames(~mask & KNOWN_CAPS);
  if (missing.length <= 8) return missing.length === 0 ? '[all]' : `[all but ${missing.join(' ')}]`;
  return `[${names.length} capabilities, mask ${hex(mask)}]`;
}

/** The man page of a namespace kind (section 7): pid_namespaces, network_namespaces… (OCI types match). */
export function namespaceManPage(type: NamespaceType): string {
  return `${type}_namespaces`;
}

/**
 * Why an optional step was skipped: its target does not exist in the container (ENOENT), and the field
 * that asked for it lists paths to act on *where they exist* (runc and crun skip them the same way).
 */
export function skipReason(s: Step): string {
  const path = s.op === 'mask' ? s.path : s.op === 'mount' ? s.target : undefined;
  const where = path ? `${path} does not exist in this container` : 'its target does not exist';
  if (s.field?.startsWith('linux.maskedPaths')) {
    return `optional: ${where} (this kernel or image has no such file), so there is nothing to hide; linux.maskedPaths names paths to hide where they exist`;
  }
  if (s.field?.startsWith('linux.readonlyPaths')) {
    return `optional: ${where} (this kernel or image has no such file), so there is nothing to make read-only; linux.readonlyPaths names paths to protect where they exist`;
  }
  return `optional: ${where}, which this step allows`;
}
