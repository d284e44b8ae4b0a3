// The config.json `tsrun spec` writes: the same document `runc spec` (runc 1.1.5) writes, except the
// hostname, so a bundle made by either runtime runs on the other.
import type { Mount, Spec } from './types.js';

/** runtime-spec version written into new configs; it is the one runc 1.1 writes. */
export const DEFAULT_OCI_VERSION = '1.0.2-dev';

export interface DefaultSpecOptions {
  /** Like `runc spec --rootless`: a user namespace mapping root to the calling user, no network namespace, no cgroup limits. */
  rootless?: boolean;
  /** Command to run; default `["sh"]`. */
  args?: string[];
  /** Allocate a terminal; default true (runc's default, for an interactive shell). */
  terminal?: boolean;
}

// A small, commonly harmless set: audit logging, signalling own processes, binding ports < 1024.
const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

// /proc and /sys entries that leak host information or allow host changes.
const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/sys/firmware',
  '/proc/scsi',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function defaultSpec(options: DefaultSpecOptions = {}): Spec {
  const spec = rootfulSpec(options);
  return options.rootless ? makeRootless(spec) : spec;
}

function rootfulSpec(options: DefaultSpecOptions): Spec {
  const caps = () => [...DEFAULT_CAPABILITIES];
  return {
    ociVersion: DEFAULT_OCI_VERSION,
    process: {
      terminal: options.terminal ?? true,
      user: { uid: 0, gid: 0 },
      args: [...(options.args ?? ['sh'])],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps(), effective: caps(), permitted: caps(), ambient: caps() },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: defaultMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

// What an unprivileged user can do: everything happens inside a user namespace where the caller is
// root. The network namespace is dropped because an unprivileged user cannot configure one beyond
// loopback, and cgroup limits because the user usually owns no cgroup to apply them in.
function makeRootless(spec: Spec): Spec {
  const linux = spec.linux ?? {};
  delete linux.resources;
  linux.namespaces = [...(linux.namespaces ?? []).filter((ns) => ns.type !== 'network'), { type: 'user' }];
  linux.uidMappings = [{ containerID: 0, hostID: process.geteuid?.() ?? 0, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: process.getegid?.() ?? 0, size: 1 }];
  spec.mounts = (spec.mounts ?? []).flatMap(rootlessMount);
  return { ...spec, linux };
}

function rootlessMount(mount: Mount): Mount[] {
  switch (mount.type) {
    // The kernel mounts a new sysfs only for a network namespace owned by the user namespace, and
    // rootless has none of its own; bind the host's /sys instead.
    case 'sysfs':
      return [{ destination: mount.destination, type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }];
    // Group 5 (tty) is not mapped into a one-id user namespace, so devpts cannot use it.
    case 'devpts':
      return [{ ...mount, options: (mount.options ?? []).filter((o) => o !== 'gid=5') }];
    // A cgroup2 mount needs a cgroup namespace owned by the user namespace. runc 1.1 keeps this
    // mount and falls back to a bind mount at run time; tsrun leaves it out of rootless configs.
    case 'cgroup':
      return [];
    default:
      return [mount];
  }
}
