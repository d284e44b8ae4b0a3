// The plan of a container's init: config.json → the namespaces to create and the steps of every
// phase. Pure apart from the HostView it is given, so tests run it without root.
import { ConfigError } from '../errors.js';
import type { Plan } from '../abi/steps.js';
import type { Spec } from '../oci/types.js';
import { hasCreateHooks } from '../oci/hook-phases.js';
import { becomeNamespaceRootSteps, loopbackUpSteps, planNamespaces } from '../namespaces/plan.js';
import { planRootfs, type HostView } from '../rootfs/plan.js';
import type { RootfsOverlay } from '../rootfs/image-overlay.js';
import { earlyProcessSteps, execStep, identitySteps, keyringSteps, processSteps } from '../process/plan.js';
import { hookPauseSteps, startGateSteps, type StartGate } from '../process/start-gate.js';
import { composePlan } from './compose.js';

export interface ContainerPlanContext {
  bundleDir: string;
  rootfs: string;
  host: HostView;
  runningAsRoot: boolean;
  /** tsrun itself runs in a user namespace other than the host's (podman's rootless runtime): no mknod. */
  callerInUserNamespace?: boolean;
  /** Not root: tsrun's own uid and gid (default: this process's), which it may map without newuidmap. */
  caller?: { uid: number; gid: number };
  /** The host's cgroup2 mount point, if any (see rootfs/plan.ts for why it matters). */
  cgroup2Mount?: string;
  consoleSize?: { rows: number; cols: number };
  /** Kill the container if tsrun dies during set-up (foreground run). */
  dieWithParent?: boolean;
  preserveFds?: number;
  /** runc's --no-pivot. */
  noPivot?: boolean;
  /** Give the container a new session keyring (runc's default; --no-new-keyring turns it off). */
  newKeyring?: string;
  /** Where the init waits for `start`; without one it execs as soon as it is set up. */
  startGate?: StartGate;
  /** `run --image`: the overlay mounted as the rootfs. */
  imageOverlay?: RootfsOverlay;
}

export function containerPlan(spec: Spec, ctx: ContainerPlanContext): Plan {
  const proc = spec.process;
  if (!proc) throw new ConfigError('process', 'is required to run a container');
  const ns = planNamespaces(spec, { runningAsRoot: ctx.runningAsRoot, ...(ctx.caller ? { caller: ctx.caller } : {}) });
  const creates = (type: string): boolean => ns.namespaces.some((n) => n.type === type && n.action === 'create');
  const has = (type: string): boolean => ns.namespaces.some((n) => n.type === type);
  // A joined uts namespace is the container's too (runc allows a hostname there); the host's is not.
  if ((spec.hostname !== undefined || spec.domainname !== undefined) && !has('uts')) {
    throw new ConfigError(spec.hostname !== undefined ? 'hostname' : 'domainname', 'needs a uts namespace in linux.namespaces');
  }
  const rootfs = planRootfs(spec, {
    bundleDir: ctx.bundleDir, rootfs: ctx.rootfs, host: ctx.host,
    newUserNamespace: creates('user'), ...(ctx.callerInUserNamespace ? { callerInUserNamespace: true } : {}), mountNamespace: has('mount'), ...(ctx.noPivot ? { noPivot: true } : {}), newNetworkNamespace: creates('network'), newCgroupNamespace: creates('cgroup'),
    ...(ctx.cgroup2Mount ? { cgroup2Mount: ctx.cgroup2Mount } : {}),
    ...(ctx.imageOverlay ? { imageOverlay: ctx.imageOverlay } : {}),
  });
  const exec = execStep(proc);
  const gate = ctx.startGate ? startGateSteps(ctx.startGate, exec) : undefined;
  return composePlan({
    namespaces: ns.namespaces, cloneFlags: ns.cloneFlags, ...(ns.idMaps ? { idMaps: ns.idMaps } : {}),
    dieWithParent: ctx.dieWithParent ?? true, preserveFds: ctx.preserveFds ?? 0,
  }, {
    'first-stage': ns.firstStage,
    'open-start-gate': gate?.open,
    'namespace-root': becomeNamespaceRootSteps(ns),
    'namespace-unshare': ns.early,
    keyring: keyringSteps(ctx.newKeyring),
    loopback: loopbackUpSteps(spec),
    identity: identitySteps(spec),
    'early-process': earlyProcessSteps(proc),
    'mount-propagation': rootfs.propagation,
    'image-rootfs': rootfs.imageRootfs,
    rootfs: rootfs.mounts,
    'hook-pause': hasCreateHooks(spec) ? hookPauseSteps() : [],
    pivot: rootfs.pivot,
    lockdown: rootfs.lockdown,
    process: processSteps(proc, {
      setgroupsAllowed: !ns.idMaps || ns.idMaps.setgroups === 'allow',
      ...(spec.linux?.seccomp ? { seccomp: spec.linux.seccomp } : {}),
      ...(ctx.consoleSize ? { consoleSize: ctx.consoleSize } : {}),
    }),
    'check-exec': gate?.check,
    'start-gate': gate?.wait,
    exec: [exec],
  });
}
