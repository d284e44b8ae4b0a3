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
  'keyring',
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
