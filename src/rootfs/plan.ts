// The rootfs half of the plan: make mounts private to the container, mount everything config.json
// asks for inside the rootfs, create /dev, pivot_root into it, then lock it down (masked and
// read-only paths, read-only root). Without a mount namespace the same mounts go into the caller's
// mount table and the process enters the rootfs with chroot (caller-mounts.ts undoes the mounts).
// Pure: host facts come in through `RootfsContext`.
import { isAbsolute, posix, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Mount, Spec } from '../oci/types.js';
import { MNT_DETACH, MS } from '../abi/linux.js';
import { MOUNT_PROPAGATION } from '../abi/mount-flags.js';
import type { Step } from '../abi/steps.js';
import { DEFAULT_DEVICES, deviceSteps, devSymlinkSteps } from './devices.js';
import { overlaySteps, type RootfsOverlay } from './image-overlay.js';
import { parseMountOptions } from './mount-options.js';

export interface HostView {
  /** 'dir', 'file' (anything that is not a directory), or undefined when the path does not exist. */
  kind(path: string): 'dir' | 'file' | undefined;
}

export interface RootfsContext {
  bundleDir: string;
  /** Absolute host path of the rootfs. */
  rootfs: string;
  host: HostView;
  newUserNamespace: boolean;
  /**
   * tsrun itself is in a user namespace other than the host's (root of a user's namespace, as podman
   * runs its runtime rootless): device nodes cannot be made there either, so they are bound in.
   */
  callerInUserNamespace?: boolean;
  /** The container has a mount namespace of its own (created or joined); without one it is chroot'ed. */
  mountNamespace: boolean;
  /** runc's --no-pivot: MS_MOVE the rootfs onto / and chroot (for roots pivot_root refuses, e.g. initramfs). */
  noPivot?: boolean;
  newNetworkNamespace: boolean;
  newCgroupNamespace: boolean;
  /** The host's cgroup2 mount point (from /proc/self/mountinfo), if any. */
  cgroup2Mount?: string;
  /** `run --image`: the overlay that becomes the rootfs. */
  imageOverlay?: RootfsOverlay;
}

/** The rootfs's steps by the phase of the plan they belong to (plan/phases.ts). */
export interface RootfsSteps {
  /** Stop mounts made in the new mount namespace from propagating back to the host. */
  propagation: Step[];
  /** Mount an image's overlay on the rootfs directory. */
  imageRootfs: Step[];
  /** Bind the rootfs onto itself and open it; the config's mounts, devices and /dev links. */
  mounts: Step[];
  /** Enter the rootfs: pivot_root, or chroot. */
  pivot: Step[];
  /** After entering it: root propagation, sysctls, read-only and masked paths, read-only root. */
  lockdown: Step[];
}

function propagationSteps(ctx: RootfsContext): Step[] {
  if (!ctx.mountNamespace) return [];
  return [{
    // Always a recursive slave first: pivot_root refuses shared mounts and binding the rootfs onto
    // itself fails on an unbindable one, so linux.rootfsPropagation is applied after the pivot.
    op: 'mount', source: '', target: '/', fstype: '', data: '', flags: MS.SLAVE | MS.REC,
    why: 'the new mount namespace starts as a copy of the host\'s; stop mounts made here from propagating back to the host',
  }];
}

function prepareSteps(ctx: RootfsContext): Step[] {
  if (!ctx.mountNamespace) {
    return [{
      op: 'openRoot', path: ctx.rootfs, field: 'root.path',
      why: 'no mount namespace of its own: the mounts below go into the caller\'s mount table, resolved inside the rootfs; tsrun records them and `delete` unmounts exactly those',
    }];
  }
  return [
    {
      op: 'mount', source: ctx.rootfs, target: ctx.rootfs, fstype: '', data: '', flags: MS.BIND | MS.REC,
      why: 'pivot_root needs the new root to be a mount point: bind the rootfs onto itself', field: 'root.path',
    },
    { op: 'openRoot', path: ctx.rootfs, why: 'every later path is resolved inside this directory, so symlinks in the image cannot point mounts at the host', field: 'root.path' },
  ];
}

/** The destination names /proc or a path below it (after `.` and `..` are taken out, as the shim does). */
function underProc(destination: string): boolean {
  const p = posix.normalize(`/${destination}`);
  return p === '/proc' || p.startsWith('/proc/');
}

function bindSource(m: Mount, i: number, ctx: RootfsContext): { source: string; kind: 'dir' | 'file' } {
  if (!m.source) throw new ConfigError(`mounts[${i}].source`, 'a bind mount needs a source');
  const source = isAbsolute(m.source) ? m.source : resolve(ctx.bundleDir, m.source);
  const kind = ctx.host.kind(source);
  if (!kind) throw new ConfigError(`mounts[${i}].source`, `${source} does not exist`);
  return { source, kind };
}

function mountSteps(m: Mount, i: number, ctx: RootfsContext): Step[] {
  const field = `mounts[${i}]`;
  const opts = parseMountOptions(m.options);
  let type = m.type ?? '';
  // `runc spec` writes type "cgroup"; on a cgroup v2 host that means cgroup2 (runc does the same).
  if (type === 'cgroup') type = 'cgroup2';
  // sysfs may only be mounted by the owner of the network namespace; without a new one, bind the host's.
  const sysfsAsBind = type === 'sysfs' && (ctx.newUserNamespace || ctx.callerInUserNamespace === true) && !ctx.newNetworkNamespace;
  // Without a cgroup namespace a new cgroup2 mount shows the same tree as the host's, but creating it
  // took 8-20 ms on these hosts (a bind: 0.02 ms), so bind the host's cgroup2 mount instead.
  const cgroupAsBind = type === 'cgroup2' && !ctx.newCgroupNamespace && ctx.cgroup2Mount !== undefined;
  const isBind = opts.bind || type === 'bind' || sysfsAsBind || cgroupAsBind;
  const steps: Step[] = [];
  const dest = m.destination;
  // procfs and sysfs hold what masked and read-only paths protect. Reached through a symlink of the
  // image they could land where those paths (and later mounts) do not look: refuse any symlink on the
  // way (CVE-2019-16884, CVE-2023-27561, CVE-2023-28642; runc requires an ordinary directory too).
  const kernelFs = type === 'proc' || type === 'sysfs' ? { noSymlinks: true } : {};
  // A destination that is not under /proc in the config must not land on procfs through a symlink
  // of the image (or of a volume another container swaps): what tsrun writes to /proc afterwards
  // (sysctls) would go into the mounted files instead (CVE-2019-16884, CVE-2019-19921). A mount the
  // config itself puts under /proc (lxcfs files) is its own choice.
  const target = { ...kernelFs, ...(underProc(dest) ? {} : { notOnProcfs: true }) };
  if (isBind) {
    const { source, kind } = sysfsAsBind ? { source: '/sys', kind: 'dir' as const }
      : cgroupAsBind ? { source: ctx.cgroup2Mount!, kind: 'dir' as const } : bindSource(m, i, ctx);
    const recursive = opts.recursive || sysfsAsBind;
    steps.push({
      op: 'mount', source, target: dest, fstype: '', data: '', flags: MS.BIND | (recursive ? MS.REC : 0), mkdir: kind, inRoot: true, ...target, field,
      why: sysfsAsBind ? 'sysfs needs the network namespace\'s owner: bind the host\'s /sys instead'
        : cgroupAsBind ? 'the cgroup v2 hierarchy; without a cgroup namespace binding the host\'s cgroup2 mount shows the same tree as a new mount, and is far cheaper'
        : `make ${source} visible at ${dest}`,
    });
    const remountFlags = opts.flags & ~MS.REMOUNT;
    if (remountFlags !== 0) {
      // A recursive bind brings the mounts below its source; "ro" (nosuid, nodev, noexec) must hold
      // for all of them, not only the top as mount(2) does: the host's /sys bound for sysfs (or an
      // explicit rbind of /sys, as `spec --rootless` writes) otherwise leaves the host's cgroup
      // hierarchies writable from the container (CVE-2023-25809). MS_REC on a remount makes the shim
      // set them on the whole tree (runc keeps plain "ro" to the top and needs "rro" for this).
      steps.push({
        op: 'mount', source: '', target: dest, fstype: '', data: '', flags: MS.REMOUNT | MS.BIND | remountFlags | (recursive ? MS.REC : 0),
        inRoot: true, keepLocked: true, field,
        why: recursive ? 'a bind mount ignores flags such as ro: they take effect on a remount, here of the bind and every mount below it'
          : 'a bind mount ignores flags such as ro: they take effect only on a remount of it',
      });
    }
  } else {
    if (!type) throw new ConfigError(`mounts[${i}].type`, 'a mount that is not a bind mount needs a type');
    steps.push({
      op: 'mount', source: m.source ?? type, target: dest, fstype: type, data: opts.data.join(','), flags: opts.flags,
      mkdir: 'dir', inRoot: true, ...target, field, why: FS_WHY[type] ?? `mount ${type} at ${dest} as config.json asks`,
    });
  }
  if (opts.propagation) {
    steps.push({ op: 'mount', source: '', target: dest, fstype: '', data: '', flags: opts.propagation, inRoot: true, field, why: 'propagation is set by its own mount call' });
  }
  return steps;
}

const FS_WHY: Record<string, string> = {
  proc: 'a procfs of the new PID namespace: ps and /proc show only the container\'s processes',
  sysfs: 'kernel objects (devices, cgroups) for tools that read /sys',
  tmpfs: 'a private in-memory filesystem',
  devpts: 'a private devpts instance: the container\'s ptys are numbered from 0 and invisible to the host',
  mqueue: 'POSIX message queues of the container\'s IPC namespace',
  cgroup2: 'the cgroup v2 hierarchy; with a cgroup namespace its root is the container\'s own cgroup',
};

function deviceAndLinkSteps(spec: Spec, ctx: RootfsContext): Step[] {
  const mounts = spec.mounts ?? [];
  const configured = spec.linux?.devices ?? [];
  const overridden = new Set(configured.map((d) => d.path));
  const defaults = DEFAULT_DEVICES.filter((d) => !overridden.has(d.path));
  return [
    ...deviceSteps(defaults, ctx.newUserNamespace || ctx.callerInUserNamespace === true, () => undefined),
    ...deviceSteps(configured, ctx.newUserNamespace || ctx.callerInUserNamespace === true, (i) => `linux.devices[${i}]`),
    ...devSymlinkSteps(mounts.some((m) => m.destination === '/proc'), mounts.some((m) => m.destination === '/dev/pts')),
  ];
}

function pivotSteps(ctx: RootfsContext): Step[] {
  if (ctx.noPivot && ctx.mountNamespace) {
    return [
      { op: 'chdir', path: ctx.rootfs, why: '--no-pivot: work from the rootfs' },
      { op: 'mount', source: '.', target: '/', fstype: '', data: '', flags: MS.MOVE, why: '--no-pivot: move the rootfs mount over / (the old tree stays underneath, in this mount namespace only)', field: 'root.path' },
      { op: 'chroot', path: '.', why: '--no-pivot: enter it with chroot; weaker than pivot_root, which is why it is not the default' },
      { op: 'chdir', path: '/', why: 'start from the new root' },
    ];
  }
  if (!ctx.mountNamespace) {
    return [
      { op: 'chdir', path: ctx.rootfs, why: 'no mount namespace of its own: pivot_root would move the caller\'s root' },
      { op: 'chroot', path: '.', why: 'without a mount namespace the rootfs can only be entered with chroot', field: 'root.path' },
      { op: 'chdir', path: '/', why: 'start from the new root' },
    ];
  }
  return [
    { op: 'chdir', path: ctx.rootfs, why: 'pivot_root(".", ".") works on the current directory' },
    { op: 'pivotRoot', newRoot: '.', putOld: '.', why: 'make the rootfs `/` so the host tree is unreachable; chroot alone can be escaped', field: 'root.path' },
    { op: 'mount', source: '', target: '.', fstype: '', data: '', flags: MS.SLAVE | MS.REC, why: 'the old root now sits on top of `/`: make it a slave so detaching it cannot unmount anything on the host' },
    { op: 'umount', target: '.', flags: MNT_DETACH, why: 'detach the old root: the host\'s filesystem tree is gone from this mount namespace' },
    { op: 'chdir', path: '/', why: 'start from the new root' },
  ];
}

function lockdownSteps(spec: Spec): Step[] {
  const linux = spec.linux ?? {};
  const steps: Step[] = [];
  if (linux.rootfsPropagation) {
    steps.push({ op: 'mount', source: '', target: '/', fstype: '', data: '', flags: MOUNT_PROPAGATION[linux.rootfsPropagation]!, field: 'linux.rootfsPropagation', why: 'the requested propagation of the container\'s root, set after pivot_root (which refuses shared roots)' });
  }
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    steps.push({ op: 'writeFile', path: `/proc/sys/${key.replace(/\./g, '/')}`, content: value, field: `linux.sysctl.${key}`, why: 'a kernel parameter scoped to the container\'s namespaces' });
  }
  (linux.readonlyPaths ?? []).forEach((p, i) => {
    const field = `linux.readonlyPaths[${i}]`;
    steps.push(
      { op: 'mount', source: p, target: p, fstype: '', data: '', flags: MS.BIND | MS.REC, optional: true, field, why: 'bind the path onto itself so it can get its own flags' },
      { op: 'mount', source: '', target: p, fstype: '', data: '', flags: MS.REMOUNT | MS.BIND | MS.RDONLY, optional: true, keepLocked: true, field, why: 'read-only: the container may read this kernel interface but not change it' },
    );
  });
  (linux.maskedPaths ?? []).forEach((p, i) => {
    steps.push({ op: 'mask', path: p, field: `linux.maskedPaths[${i}]`, why: 'hide a host kernel interface: an empty read-only tmpfs over a directory, /dev/null over a file' });
  });
  if (spec.root?.readonly) {
    steps.push({ op: 'mount', source: '', target: '/', fstype: '', data: '', flags: MS.REMOUNT | MS.BIND | MS.RDONLY, keepLocked: true, field: 'root.readonly', why: 'root.readonly: the container cannot write to its rootfs' });
  }
  return steps;
}

/**
 * Without a mount namespace the config's mounts go into the caller's mount table, under the rootfs,
 * and `delete` removes exactly those again (caller-mounts.ts). What acts on mounts tsrun does not
 * make there, and so could not be undone, is refused.
 */
function checkCallerNamespaceLimits(spec: Spec, ctx: RootfsContext): void {
  if (spec.root?.readonly) {
    throw new ConfigError('root.readonly', 'needs a mount namespace ({"type": "mount"} in linux.namespaces): without one the remount would make the caller\'s mount that holds the rootfs read-only, for every process and after the container');
  }
  if (spec.linux?.rootfsPropagation) {
    throw new ConfigError('linux.rootfsPropagation', 'needs a mount namespace ({"type": "mount"} in linux.namespaces): without one it would change the propagation of the caller\'s own mounts');
  }
  if (ctx.newUserNamespace) {
    throw new ConfigError('linux.namespaces', 'a new user namespace needs a new mount namespace too: mounting in the caller\'s mount table takes privilege over it, which a new user namespace does not give (mount fails with EPERM)');
  }
  if (ctx.imageOverlay) {
    throw new ConfigError('linux.namespaces', 'an image\'s rootfs needs a mount namespace ({"type": "mount"} in linux.namespaces): without one its overlay would be mounted in the caller\'s mount table and outlive the container');
  }
}

export function planRootfs(spec: Spec, ctx: RootfsContext): RootfsSteps {
  if (!ctx.mountNamespace) checkCallerNamespaceLimits(spec, ctx);
  return {
    propagation: propagationSteps(ctx),
    imageRootfs: ctx.imageOverlay ? overlaySteps(ctx.imageOverlay, ctx.rootfs) : [],
    mounts: [
      ...prepareSteps(ctx),
      ...(spec.mounts ?? []).flatMap((m, i) => mountSteps(m, i, ctx)),
      ...deviceAndLinkSteps(spec, ctx),
    ],
    pivot: pivotSteps(ctx),
    lockdown: lockdownSteps(spec),
  };
}
