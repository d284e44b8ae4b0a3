// Seccomp filters let a container's config (linux.seccomp) decide, per syscall, to allow it, fail
// it with an errno, or kill the caller. The `Seccomp:` line of /proc/self/status exists only when
// the kernel has seccomp; actions_avail lists the filter return actions it understands.
import { parseProcStatus } from './proc-status.js';
import { item, type CheckItem } from './report.js';

export interface SeccompInputs {
  status: string;
  /** Contents of /proc/sys/kernel/seccomp/actions_avail (kernel >= 4.14). */
  actionsAvail?: string;
}

/** OCI action → kernel action name, with the kernel that added it. */
const OCI_ACTIONS: [oci: string, kernel: string, since: string][] = [
  ['SCMP_ACT_ALLOW', 'allow', '3.5'],
  ['SCMP_ACT_ERRNO', 'errno', '3.5'],
  ['SCMP_ACT_KILL_THREAD', 'kill_thread', '3.5'],
  ['SCMP_ACT_TRAP', 'trap', '3.5'],
  ['SCMP_ACT_TRACE', 'trace', '3.5'],
  ['SCMP_ACT_KILL_PROCESS', 'kill_process', '4.14'],
  ['SCMP_ACT_LOG', 'log', '4.14'],
  ['SCMP_ACT_NOTIFY', 'user_notif', '5.0'],
];

const MODES: Record<string, string> = { '0': 'disabled', '1': 'strict', '2': 'filter' };

function modeItem(mode: string | undefined, filters: string | undefined): CheckItem {
  if (mode === undefined) {
    return item('seccomp', 'seccomp', 'missing', 'no Seccomp: line in /proc/self/status: this kernel has no seccomp',
      'linux.seccomp profiles cannot be enforced, so containers keep every syscall; use a kernel with CONFIG_SECCOMP_FILTER');
  }
  if (mode === '0') return item('seccomp', 'seccomp', 'ok', 'available; tsrun itself runs unfiltered (mode 0), so a container gets exactly its profile');
  const count = filters === undefined ? 'one or more' : filters;
  return item('seccomp', 'seccomp', 'ok',
    `available; tsrun itself already runs under ${count} seccomp filter(s) (mode ${mode}: ${MODES[mode] ?? 'unknown'}), e.g. inside another container: a container's profile is added on top and the strictest answer wins`);
}

function actionsItem(actionsAvail: string | undefined): CheckItem {
  if (actionsAvail === undefined) {
    return item('seccomp', 'actions', 'warn', 'no /proc/sys/kernel/seccomp/actions_avail (kernel < 4.14): only the original actions can be assumed',
      'profiles using SCMP_ACT_KILL_PROCESS, SCMP_ACT_LOG or SCMP_ACT_NOTIFY will fail; use a kernel >= 5.0');
  }
  const have = new Set(actionsAvail.trim().split(/\s+/));
  const missing = OCI_ACTIONS.filter(([, kernel]) => !have.has(kernel));
  if (missing.length === 0) return item('seccomp', 'actions', 'ok', `every OCI action is available (${[...have].join(' ')})`);
  const list = missing.map(([oci, , since]) => `${oci} (${since})`).join(', ');
  return item('seccomp', 'actions', 'warn', `the kernel lacks ${list}`, `profiles using ${missing.length === 1 ? 'it' : 'them'} fail to load; use a newer kernel`);
}

export function probeSeccomp(input: SeccompInputs): CheckItem[] {
  const status = parseProcStatus(input.status);
  return [modeItem(status.get('Seccomp'), status.get('Seccomp_filters')), actionsItem(input.actionsAvail)];
}
