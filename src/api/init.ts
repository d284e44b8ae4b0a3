// `init: true` (run/create --init): tsrun-init as a tiny PID 1 in front of the container's program
// (`tsrun-init init -- PROGRAM…`, native-bindings/init-modes.c): it forwards signals, reaps
// orphans and exits with the program's status (128+N for signal N), as tini and catatonit do. A
// program that is PID 1 never gets a signal it installed no handler for, so without an init a
// service that ignores SIGTERM only stops on SIGKILL.
//
// A pure change of the OCI config: process.args gains the init in front, and mounts a read-only
// bind of tsrun-init at /dev/init. Why /dev/init: /dev is the tmpfs tsrun makes for every container,
// so making the mount point writes nothing into the image's root filesystem (a bind-mounted rootfs
// is the user's directory) and works with root.readonly, where /run or /sbin may not exist and could
// not be made; and it is podman's path for its --init, so tools and people know it.
//
// The container never gets a writable host binary as /proc/self/exe (docs/security.md): the bind is
// read-only (ro, nosuid, nodev), so /proc/1/exe cannot be opened for writing (EROFS), and the init
// stays non-dumpable (tsrun-init's first act), so the container cannot even open it. A read-only
// bind mount could be remounted writable by a process with CAP_SYS_ADMIN over that mount namespace:
// in a user namespace the kernel locks the flag (MNT_LOCK_READONLY), without one nothing does, so
// such configs are refused rather than given the host's tsrun-init.
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Mount, Spec } from '../oci/types.js';
import { packageRoot } from '../package-root.js';
import { spawnSettings } from '../native/spawn-settings.js';

/** Where the init appears inside the container. */
export const INIT_PATH = '/dev/init';

const normal = (p: string): string => p.replace(/\/+$/, '') || '/';

/** The config with tsrun-init (at `initPath` on the host) as PID 1 in front of process.args. */
export function withInit(config: Spec, initPath: string): Spec {
  const args = config.process?.args;
  if (!args || args.length === 0) throw new ConfigError('process.args', 'init needs a program to run behind it');
  const mounts = config.mounts ?? [];
  if (args[0] === INIT_PATH && args[1] === 'init') return config; // already behind the init
  if (!mounts.some((m) => normal(m.destination) === '/dev' && m.type === 'tmpfs')) {
    throw new ConfigError('mounts', `init is mounted at ${INIT_PATH}, which needs a tmpfs at /dev (none is listed): the mount point must not be made in the root filesystem`);
  }
  const taken = mounts.findIndex((m) => normal(m.destination) === INIT_PATH);
  if (taken >= 0) throw new ConfigError(`mounts[${taken}].destination`, `${INIT_PATH} is where init is mounted`);
  const userNs = config.linux?.namespaces?.some((n) => n.type === 'user') ?? false;
  const caps = config.process?.capabilities?.bounding ?? [];
  if (!userNs && caps.includes('CAP_SYS_ADMIN')) {
    throw new ConfigError('process.capabilities.bounding', `init: CAP_SYS_ADMIN without a user namespace could remount ${INIT_PATH} writable and change the host's tsrun-init; drop CAP_SYS_ADMIN or add a user namespace`);
  }
  const bind: Mount = { destination: INIT_PATH, type: 'bind', source: initPath, options: ['bind', 'ro', 'nosuid', 'nodev'] };
  return {
    ...config,
    process: { ...config.process!, args: [INIT_PATH, 'init', '--', ...args] },
    // After the /dev tmpfs (mounts are made in order).
    mounts: [...mounts, bind],
  };
}

/** The host's tsrun-init: the one containers are set up with (spawn settings: the CLI's TSRUN_INIT), else the package's build. */
export function defaultInitPath(): string {
  return spawnSettings().initProgram ?? join(packageRoot(), 'native-bindings', 'build', 'tsrun-init');
}

/** withInit with the host's tsrun-init: what `run --init` and `create --init` apply. */
export function withDefaultInit(config: Spec): Spec {
  return withInit(config, defaultInitPath());
}
