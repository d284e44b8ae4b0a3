// Linux namespaces by their config.json names: the CLONE_NEW* flag that creates each, the file under
// /proc/PID/ns/ that joins it, what it isolates (for people), and the text of an id map. These are
// the kernel's names and numbers (include/uapi/linux/sched.h, namespaces(7), user_namespaces(7)).
import { CLONE } from './linux.js';

export const NAMESPACE_FLAGS = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
} as const;

/** A namespace kind as config.json's linux.namespaces[].type names it. */
export type NamespaceType = keyof typeof NAMESPACE_FLAGS;

/** The entry of /proc/PID/ns/ that a process of another namespace opens to join it with setns(2). */
export const NAMESPACE_PROC_FILES: Record<NamespaceType, string> = {
  pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time',
};

/** What each namespace isolates, for `explain` and --trace. */
export const NAMESPACE_ISOLATES: Record<NamespaceType, string> = {
  pid: 'process ids: the container sees its own PID 1 and none of the host processes',
  network: 'network devices, addresses, routes, ports: only a fresh loopback',
  mount: 'the mount table: mounts made inside never appear on the host',
  ipc: 'System V IPC and POSIX message queues',
  uts: 'hostname and NIS domain name',
  user: 'uids, gids and capabilities: root inside maps to an ordinary id outside',
  cgroup: 'the view of /proc/self/cgroup and cgroupfs: the container cgroup looks like the root',
  time: 'the offsets of CLOCK_MONOTONIC and CLOCK_BOOTTIME (uptime, timers): a container can keep its clocks across a move',
};

/** `A|B|C` of the CLONE_NEW* flag names of these namespaces, or '0'. */
export function cloneFlagNames(types: readonly NamespaceType[]): string {
  return types.map((t) => `CLONE_NEW${t === 'network' ? 'NET' : t === 'mount' ? 'NS' : t.toUpperCase()}`).join('|') || '0';
}

/** One line of /proc/PID/uid_map or gid_map (config.json's linux.uidMappings[] has this shape). */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** The text written to /proc/PID/uid_map or gid_map: one "inside outside count" line a mapping. */
export function idMapText(maps: readonly IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}
