// The phases of a plan, in the order tsrun-init runs them. Every plan tsrun makes — a container's
// init, an exec'd process, a hook inside the container — is these phases, most of them empty for any
// one plan; the planners fill them and plan/compose.ts lays them out. Steps that must go between two
// others (the start gate, the hook pause, an image's overlay) have a phase of their own instead of
// being spliced into a finished list. Pure.
import type { Step } from '../abi/steps.js';

export const PHASES = [
  /** Run by tsrun-init's first stage before it clones the container process (a new time namespace). */
  'first-stage',
  /** create: open the exec fifo while its host path is still reachable. */
  'open-start-gate',
  /** A hook inside the container: its state file on stdin. */
  'hook-stdin',
  /** exec into a container without a mount namespace: chroot into the init's root. */
  'enter-init-root',
  /** A new user namespace: become its root once the parent has written the id maps. */
  'namespace-root',
  /** Namespaces the container process makes itself once it is in its cgroup (a new cgroup namespace). */
  'namespace-unshare',
  /** A new network namespace's lo up (the kernel makes it down). */
  'loopback',
  /** hostname, domainname. */
  'identity',
  /** What needs the host's /proc still mounted (oom_score_adj). */
  'early-process',
  /** Stop mounts made in the new mount namespace from reaching the host. */
  'mount-propagation',
  /** run --image: the overlay that becomes the rootfs. */
  'image-rootfs',
  /** Bind and open the rootfs; the config's mounts, devices, /dev links. */
  'rootfs',
  /** Creation hooks run while the init waits here: namespaces exist, the host tree is still visible. */
  'hook-pause',
  /** Enter the rootfs: pivot_root or chroot. */
  'pivot',
  /** Root propagation, sysctls, read-only and masked paths, read-only root. */
  'lockdown',
  /**
   * A session keyring named by the container's id. After the rootfs, not first as in runc: keyctl
   * resolves no path, and so every phase from namespace-unshare to lockdown is one run of steps that
   * depends on neither the id nor the fds (see AHEAD).
   */
  'keyring',
  /** rlimits, terminal, the privilege drop, umask, cwd, seccomp. */
  'process',
  /** create: fail now if the program cannot be run. */
  'check-exec',
  /** Block until started: the exec fifo (create) or the sync socket (run). */
  'start-gate',
  'exec',
] as const;

export type Phase = (typeof PHASES)[number];

/** The steps of each phase; a phase left out has none. */
export type PhaseSteps = Partial<Record<Phase, readonly Step[]>>;

/** The steps in the order of their phases. */
export function inPhaseOrder(phases: PhaseSteps): Step[] {
  return PHASES.flatMap((p) => phases[p] ?? []);
}

/**
 * The phases a warm init may run before its container is asked for (process/warm-init.ts): the
 * namespaces the process makes itself, lo, hostname, the rootfs, pivot_root and the lockdown. They
 * depend on the config and the host's mount table, not on the container's id or fds. The phases
 * before them must be empty (they need tsrun's help or the host's paths), and so must the hook
 * pause (hooks act on one container's state).
 */
const AHEAD = { first: PHASES.indexOf('namespace-unshare'), last: PHASES.indexOf('lockdown') };
const NOT_AHEAD: readonly Phase[] = [...PHASES.slice(0, AHEAD.first), 'hook-pause'];

/** The steps [from, to) of inPhaseOrder(phases) that may run ahead, if the plan allows it. */
export function aheadRange(phases: PhaseSteps): { from: number; to: number } | undefined {
  if (NOT_AHEAD.some((p) => (phases[p]?.length ?? 0) > 0)) return undefined;
  const to = PHASES.slice(AHEAD.first, AHEAD.last + 1).reduce((n, p) => n + (phases[p]?.length ?? 0), 0);
  return to > 0 ? { from: 0, to } : undefined;
}
