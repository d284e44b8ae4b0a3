// Which namespace types this kernel has and whether they may be created. /proc/self/ns/<type> exists
// exactly when the kernel was built with that namespace, and /proc/sys/user/max_<type>_namespaces caps
// how many can exist per user (0 disables the type).
import { item, withFacts, type CheckItem } from './report.js';

export const NAMESPACE_TYPES = ['mnt', 'pid', 'net', 'ipc', 'uts', 'user', 'cgroup', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** The clone flag and what the namespace isolates: the one line a learner should remember. */
const WHAT_IT_ISOLATES: Record<NamespaceType, string> = {
  mnt: 'CLONE_NEWNS: its own mount table, so pivot_root can give the container its own /',
  pid: 'CLONE_NEWPID: its own PID numbers; the container process is PID 1 and sees only its descendants',
  net: 'CLONE_NEWNET: its own interfaces, routes and ports; only lo until someone adds more',
  ipc: 'CLONE_NEWIPC: its own System V IPC objects and POSIX message queues',
  uts: 'CLONE_NEWUTS: its own hostname and domain name',
  user: 'CLONE_NEWUSER: its own uid/gid numbering; root inside can be nobody outside',
  cgroup: 'CLONE_NEWCGROUP: /proc/self/cgroup and /sys/fs/cgroup show its own cgroup as the root',
  time: 'CLONE_NEWTIME: its own CLOCK_MONOTONIC and CLOCK_BOOTTIME offsets',
};

/** What a container loses without the namespace; mnt and pid are the ones tsrun cannot do without. */
const WITHOUT_IT: Record<NamespaceType, string> = {
  mnt: 'tsrun cannot give a container its own root filesystem: no container can run',
  pid: 'the container would see and signal every host process: tsrun refuses to run',
  net: 'containers must share the host network (drop "network" from linux.namespaces)',
  ipc: 'containers must share host IPC (drop "ipc" from linux.namespaces)',
  uts: 'containers must share the host name (drop "uts" from linux.namespaces)',
  user: 'no rootless containers and no uid mapping; as root, tsrun still runs containers without one',
  cgroup: 'containers see the host cgroup tree (drop "cgroup" from linux.namespaces)',
  time: 'configs that ask for a "time" namespace (linux.timeOffsets: the clocks of a restored container) fail; few do',
};

/** The kernel build option that provides each type (mount namespaces cannot be configured out). */
const KERNEL_OPTION: Record<NamespaceType, string> = {
  mnt: 'mount namespaces (every Linux since 2.4.19 has them)',
  pid: 'CONFIG_PID_NS',
  net: 'CONFIG_NET_NS',
  ipc: 'CONFIG_IPC_NS',
  uts: 'CONFIG_UTS_NS',
  user: 'CONFIG_USER_NS',
  cgroup: 'CONFIG_CGROUPS (kernel >= 4.6)',
  time: 'CONFIG_TIME_NS (kernel >= 5.6)',
};

export interface NamespaceInputs {
  /** Names in /proc/self/ns. */
  nsEntries: string[];
  /** Contents of /proc/sys/user/max_<type>_namespaces, when readable. */
  maxNamespaces: Partial<Record<NamespaceType, string>>;
  /** kernel.unprivileged_userns_clone: a Debian/Ubuntu patch; absent on other kernels. */
  unprivilegedUsernsClone?: string;
  /** kernel.apparmor_restrict_unprivileged_userns: Ubuntu 23.10+. */
  apparmorRestrictUnprivilegedUserns?: string;
}

export interface NamespaceProbe {
  items: CheckItem[];
  /** The kernel has the type and its limit is not 0. */
  creatable: Record<NamespaceType, boolean>;
  /** A user without capabilities can create a user namespace (and so run rootless). */
  unprivilegedUserns: boolean;
}

function probeOne(type: NamespaceType, input: NamespaceInputs): { item: CheckItem; creatable: boolean } {
  const sysctl = `user.max_${type}_namespaces`;
  const limit = input.maxNamespaces[type]?.trim();
  if (!input.nsEntries.includes(type)) {
    const fix = `${WITHOUT_IT[type]}; use a kernel built with ${KERNEL_OPTION[type]}`;
    return { item: item('namespaces', type, 'missing', `not in /proc/self/ns: this kernel has no ${type} namespace`, fix), creatable: false };
  }
  if (limit === '0') {
    const fix = `${WITHOUT_IT[type]}; raise the limit: sysctl -w ${sysctl}=15000`;
    return { item: item('namespaces', type, 'missing', `disabled: ${sysctl} is 0, so none may be created`, fix), creatable: false };
  }
  const limitText = limit === undefined ? '' : ` (${sysctl} = ${limit})`;
  const ok = item('namespaces', type, 'ok', `${WHAT_IT_ISOLATES[type]}${limitText}`);
  return { item: limit === undefined ? ok : withFacts(ok, { limit: Number(limit) }), creatable: true };
}

/** Whether an unprivileged user may create (useful) user namespaces, with the item that explains it. */
function probeRootless(input: NamespaceInputs, userCreatable: boolean): { item: CheckItem; usable: boolean } {
  const name = 'rootless';
  if (!userCreatable) {
    return {
      item: item('namespaces', name, 'missing', 'no user namespaces: only root can run containers',
        'run tsrun as root, or enable user namespaces (see the user item above)'),
      usable: false,
    };
  }
  if (input.unprivilegedUsernsClone?.trim() === '0') {
    return {
      item: item('namespaces', name, 'warn', 'kernel.unprivileged_userns_clone is 0: only root may create user namespaces',
        'rootless tsrun cannot work; run as root, or: sysctl -w kernel.unprivileged_userns_clone=1'),
      usable: false,
    };
  }
  if (input.apparmorRestrictUnprivilegedUserns?.trim() === '1') {
    return {
      item: item('namespaces', name, 'warn', 'kernel.apparmor_restrict_unprivileged_userns is 1: an unprivileged user namespace gets no capabilities, so it cannot mount',
        'rootless tsrun cannot work; run as root, add an AppArmor profile allowing userns for node, or: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'),
      usable: false,
    };
  }
  return { item: item('namespaces', name, 'ok', 'unprivileged users may create user namespaces, so tsrun can run rootless containers'), usable: true };
}

export function probeNamespaces(input: NamespaceInputs): NamespaceProbe {
  const items: CheckItem[] = [];
  const creatable = {} as Record<NamespaceType, boolean>;
  for (const type of NAMESPACE_TYPES) {
    const one = probeOne(type, input);
    items.push(one.item);
    creatable[type] = one.creatable;
  }
  const rootless = probeRootless(input, creatable.user);
  items.push(rootless.item);
  return { items, creatable, unprivilegedUserns: rootless.usable };
}
