// The plan `create` and `run` execute for a bundle on this machine: containerPlan with the facts of
// the host read here (the caller's terminal size, where cgroup2 is mounted, whether tsrun is root).
// `explain` prints exactly this plan.
import { isInitialUserNamespace } from '../host/user-namespace.js';
import type { Plan } from '../abi/steps.js';
import type { Bundle } from '../oci/bundle.js';
import { hostCgroup2Mount, realHost } from '../rootfs/host-view.js';
import type { HostView } from '../rootfs/plan.js';
import type { RootfsOverlay } from '../rootfs/image-overlay.js';
import { callerTerminalSize } from '../process/terminal.js';
import type { StartGate } from '../process/start-gate.js';
import { containerPlan } from './container.js';

export interface BundlePlanOptions {
  /** Foreground `run`: the container dies with tsrun during its set-up. */
  foreground: boolean;
  startGate: StartGate;
  imageOverlay?: RootfsOverlay;
  noPivot?: boolean;
  /** The name of the container's new session keyring; none keeps the caller's. */
  keyring?: string;
  /** The host's cgroup2 mount when the caller knows it already (from planning the cgroup). */
  cgroup2Mount?: string;
  /** fds 3..3+N-1 of the caller stay open in the container (--preserve-fds). */
  preserveFds?: number;
  /** The host as the planner sees it; default: as it is (a user-mode network adds the files it writes later). */
  host?: HostView;
}

export function planBundle(bundle: Bundle, opts: BundlePlanOptions): Plan {
  const consoleSize = bundle.spec.process?.terminal ? callerTerminalSize() : undefined;
  // create knows it from planning the cgroup; read mountinfo only when nobody did.
  const cgroup2 = opts.cgroup2Mount ?? hostCgroup2Mount();
  return containerPlan(bundle.spec, {
    bundleDir: bundle.dir, rootfs: bundle.rootfs, host: opts.host ?? realHost,
    runningAsRoot: process.getuid?.() === 0, ...(isInitialUserNamespace() ? {} : { callerInUserNamespace: true }), dieWithParent: opts.foreground, startGate: opts.startGate,
    ...(opts.noPivot ? { noPivot: true } : {}), ...(opts.keyring !== undefined ? { newKeyring: opts.keyring } : {}),
    ...(cgroup2 ? { cgroup2Mount: cgroup2 } : {}),
    ...(consoleSize ? { consoleSize } : {}),
    ...(opts.imageOverlay ? { imageOverlay: opts.imageOverlay } : {}),
    ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
  });
}
