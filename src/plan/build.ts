// config.json → Plan. Composes the namespace, rootfs and process planners in the order the kernel
// requires. Pure apart from the HostView it is given, so tests run it without root.
import { ConfigError } from '../errors.js';
import type { Spec } from '../oci/types.js';
import { planNamespaces } from '../namespaces/plan.js';
import { planRootfs, type HostView } from '../rootfs/plan.js';
import { earlyProcessSteps, identitySteps, processSteps } from '../process/plan.js';
import type { Plan } from './types.js';

export interface PlanContext {
  bundleDir: string;
  rootfs: string;
  host: HostView;
  runningAsRoot: boolean;
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
}

export function buildPlan(spec: Spec, ctx: PlanContext): Plan {
  const proc = spec.process;
  if (!proc) throw new ConfigError('process', 'is required to run a container');
  const ns = planNamespaces(spec, { runningAsRoot: ctx.runningAsRoot });
  const creates = (type: string): boolean => ns.namespaces.some((n) => n.type === type && n.action === 'create');
  const has = (type: string): boolean => ns.namespaces.some((n) => n.type === type);
  // A joined uts namespace is the container's too (runc allows a hostname there); the host's is not.
  if ((spec.hostname !== undefined || spec.domainname !== undefined) && !has('uts')) {
    throw new ConfigError(spec.hostname !== undefined ? 'hostname' : 'domainname', 'needs a uts namespace in linux.namespaces');
  }
  const rootfs = planRootfs(spec, {
    bundleDir: ctx.bundleDir, rootfs: ctx.rootfs, host: ctx.host,
    newUserNamespace: creates('user'), mountNamespace: has('mount'), ...(ctx.noPivot ? { noPivot: true } : {}), newNetworkNamespace: creates('network'), newCgroupNamespace: creates('cgroup'),
    ...(ctx.cgroup2Mount ? { cgroup2Mount: ctx.cgroup2Mount } : {}),
  });
  // After clone(CLONE_NEWUSER) the child still has the host's ids, which mean nothing inside the new
  // namespace until the parent writes the maps; then it takes uid/gid 0 of the namespace, whose
  // capabilities make the set-up below possible.
  const becomeNamespaceRoot: Plan['steps'] = ns.idMaps ? [
    { op: 'setresgid', gid: 0, field: 'linux.gidMappings', why: 'become gid 0 of the new user namespace (mapped by the parent)' },
    { op: 'setresuid', uid: 0, field: 'linux.uidMappings', why: 'become uid 0 of the new user namespace: full capabilities inside it, none outside' },
  ] : [];
  const keyring: Plan['steps'] = ctx.newKeyring !== undefined
    ? [{ op: 'newKeyring', name: ctx.newKeyring, why: 'a session keyring of its own: the container cannot use the caller\'s keys (runc does the same; --no-new-keyring keeps the caller\'s)' }]
    : [];
  // runc and crun bring a new network namespace's loopback up: without it the container cannot reach
  // even its own 127.0.0.1. As namespace root (after the id switch above), before anything can drop
  // CAP_NET_ADMIN; a joined namespace is someone else's to configure.
  const newNet = (spec.linux?.namespaces ?? []).findIndex((n) => n.type === 'network' && !n.path);
  const loopback: Plan['steps'] = newNet >= 0
    ? [{ op: 'loopbackUp', field: `linux.namespaces[${newNet}]`, why: 'a new network namespace has one device, lo, and the kernel leaves it down: up, so the container reaches its own 127.0.0.1 (runc and crun do the same)' }]
    : [];
  const steps = [
    // tsrun-init's first stage runs these before the container process exists (a time namespace).
    ...ns.firstStage,
    ...becomeNamespaceRoot,
    ...ns.early,
    ...keyring,
    ...loopback,
    ...identitySteps(spec),
    ...earlyProcessSteps(proc),
    ...rootfs.beforePivot,
    ...rootfs.pivot,
    ...rootfs.afterPivot,
    ...processSteps(proc, {
      setgroupsAllowed: !ns.idMaps || ns.idMaps.setgroups === 'allow',
      ...(spec.linux?.seccomp ? { seccomp: spec.linux.seccomp } : {}),
      ...(ctx.consoleSize ? { consoleSize: ctx.consoleSize } : {}),
    }),
  ];
  return {
    namespaces: ns.namespaces,
    cloneFlags: ns.cloneFlags,
    ...(ns.idMaps ? { idMaps: ns.idMaps } : {}),
    // The parent must act before the child's first step when it writes id maps; waiting always keeps
    // one code path and lets the parent place the child in its cgroup first.
    waitForParent: true,
    dieWithParent: ctx.dieWithParent ?? true,
    preserveFds: ctx.preserveFds ?? 0,
    steps,
  };
}
