// Create, phase 1: everything decided before anything of the container exists — the bundle, the
// refusals (a terminal without a console socket, a limit the host cannot apply), the cgroup plan and
// the step plan. An image is the exception: its bundle lives in the state directory, so for an
// image that directory is made here, first of all.
import { TsrunError } from '../../errors.js';
import type { Plan } from '../../abi/steps.js';
import { loadBundle, type Bundle } from '../../oci/bundle.js';
import type { Spec } from '../../oci/types.js';
import { cgroupDriver, detectCgroupHost, planCgroupForCaller, type CgroupDriver, type CgroupHost, type CgroupPlan } from '../../cgroups/index.js';
import { planBundle } from '../../plan/bundle-plan.js';
import { withStdio } from '../../process/stdio.js';
import type { RootfsOverlay } from '../../rootfs/image-overlay.js';
import type { CreateContext } from './context.js';
import { creatingRecord, makeStateDir } from './state-dir.js';
import type { PreparedNetwork } from '../../network/phase.js';

export interface Prepared {
  bundle: Bundle;
  spec: Spec;
  /** The bundle was made from an image, in the state dir (which exists already). */
  fromImage: boolean;
  /** cgroupfs, or systemd's transient scopes (--systemd-cgroup). */
  driver: CgroupDriver;
  cgroupPlan?: CgroupPlan;
  plan: Plan;
  /** --network / -p: the namespace the spec now has, and the CNI network to attach (network phase). */
  network?: PreparedNetwork;
}

/** Plans the cgroup; a limit the host cannot apply is refused here, before anything is created. */
function planContainerCgroup(driver: CgroupDriver, spec: Spec, id: string, warn: (m: string) => void, detect: () => CgroupHost = detectCgroupHost): CgroupPlan | undefined {
  const host = (() => { try { return detect(); } catch { return undefined; } })();
  if (!host) {
    if (spec.linux?.resources && Object.keys(spec.linux.resources).length > 0) {
      throw new TsrunError('linux.resources: this host has no cgroup v2 hierarchy mounted, so no limit can be applied', { field: 'linux.resources' });
    }
    warn('no cgroup v2 hierarchy is mounted: the container gets no cgroup');
    return undefined;
  }
  // Not the host's root (a user, or root of a user's namespace as podman runs its runtime): only a
  // delegated subtree, or no cgroup at all when no limit is asked (cgroups/rootless.ts). With
  // --systemd-cgroup a user's scope is made by its own manager, user@UID.service (cgroups/systemd/user.ts).
  const plan = driver.name === 'cgroupfs' ? planCgroupForCaller(spec, id, host, warn) : driver.plan(spec, id, host);
  for (const w of plan?.warnings ?? []) warn(w);
  return plan;
}

/** An image's bundle, made in a new state dir (whose undo also gives back what the image store lent). */
async function imageBundle(ctx: CreateContext): Promise<{ bundle: Bundle; overlay: RootfsOverlay }> {
  const { opts, store } = ctx;
  // An image's spec is not known yet: a bare config stands in until materialize rewrites the record.
  makeStateDir(ctx, creatingRecord(opts.id, undefined), { fromImage: true });
  // Loaded only for an image: a plain bundle never pays for the image code.
  const { prepareImageBundle } = await import('../image-bundle.js');
  return prepareImageBundle(opts.image!, store.dir(opts.id));
}

export async function prepare(ctx: CreateContext): Promise<Prepared> {
  const { opts, store, warn } = ctx;
  // A bundle on disk is checked before anything else; an image's is made in its state dir below.
  const early = opts.image ? undefined : opts.loadedBundle ?? loadBundle(opts.bundle ?? '.');
  // With --systemd-cgroup, a host without a reachable systemd is refused here, before anything is made.
  const driver = await cgroupDriver(opts.systemdCgroup);
  const image = opts.image ? await imageBundle(ctx) : undefined;
  const loaded = image?.bundle ?? early!;
  const given = opts.adjustSpec ? { ...loaded, spec: opts.adjustSpec(loaded.spec) } : loaded;
  // The network mode rewrites the spec's network namespace; an unknown network or a -p without a
  // bridge is refused here. The network code loads only for a bridge or slirp4netns: none, host and
  // ns:PATH only rewrite the spec.
  const network = !opts.network ? undefined
    : opts.network.mode.kind === 'bridge' || opts.network.mode.kind === 'slirp4netns' ? (await import('../../network/phase.js')).prepareNetwork(given.spec, opts.network, store.dir(opts.id))
      : { spec: (await import('../../network/options.js')).applyNetworkMode(given.spec, opts.network.mode, opts.network.ports) };
  const bundle = network ? { ...given, spec: network.spec } : given;
  const spec = bundle.spec;
  if (spec.process?.terminal && !opts.foreground && !opts.consoleSocket) {
    throw new TsrunError('process.terminal is true: give --console-socket to receive the pty (or set terminal to false)', { field: 'process.terminal' });
  }
  const cgroupPlan = planContainerCgroup(driver, spec, opts.id, warn, opts.cgroupHost);
  const planOptions: Parameters<typeof planBundle>[1] = {
    foreground: opts.foreground ?? false, startGate: opts.startedByCaller ? 'caller' : { fifo: store.fifoPath(opts.id) },
    ...(cgroupPlan ? { cgroup2Mount: cgroupPlan.mountPoint } : {}), ...(image ? { imageOverlay: image.overlay } : {}),
    ...(opts.noPivot ? { noPivot: true } : {}), ...(opts.noNewKeyring ? {} : { keyring: opts.id }),
    ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}), ...(opts.hostView ? { host: opts.hostView } : {}), ...network?.planOptions,
  };
  // The library's plans are kept per process (plan-memo.ts), with the host view it asks them with.
  const { host } = planOptions;
  const planned = withStdio(opts.planMemo && host && host === opts.hostView ? opts.planMemo.plan(bundle, { ...planOptions, host }) : planBundle(bundle, planOptions), opts.stdio);
  // A user-mode network's namespaces are taken before the go-ahead (create/spawn.ts): newuidmap's
  // maps need no dumpable child, but a user's setns by pidfd does.
  const plan = network?.userMode && planned.idMaps?.writer === 'helper' ? { ...planned, enteredBeforeGo: true } : planned;
  return { bundle, spec, fromImage: image !== undefined, driver, ...(cgroupPlan ? { cgroupPlan } : {}), plan, ...(network ? { network } : {}) };
}
