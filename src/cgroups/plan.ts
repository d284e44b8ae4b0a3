// planCgroup: config + host facts → everything the manager will do, decided before anything is created.
// Pure, so that a limit the host cannot enforce is refused with nothing half-made, and so the whole
// conversion is unit-testable without root.
import { ConfigError } from '../errors.js';
import type { Resources, Spec } from '../oci/types.js';
import { CONVERTERS } from './controllers/index.js';
import { DEFAULT_ALLOWED_DEVICES, allowsEverything, normaliseRule } from './devices/rules.js';
import { resolveCgroupPath, type ResolvedCgroupPath } from './path.js';
import type { CgroupHost, CgroupPlan, DeviceRule, FileWrite } from './types.js';

const PREFIX = 'linux.resources';

/** Controllers in the order the kernel lists them, so subtree_control writes are stable. */
const CONTROLLER_ORDER = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];

/** `where`: the cgroup when a driver other than cgroupfs names it (systemd: the scope's cgroup). */
export function planCgroup(spec: Spec, id: string, host: CgroupHost, where?: ResolvedCgroupPath): CgroupPlan {
  const resources: Resources = spec.linux?.resources ?? {};
  const { dir, ownedRoot } = where ?? resolveCgroupPath(host.mountPoint, spec.linux?.cgroupsPath, id);
  const writes = CONVERTERS.flatMap((convert) => convert(resources, PREFIX));
  for (const w of writes) checkControllerAvailable(w, host);
  checkHugepageSizes(resources, host);
  const controllers = [...new Set(writes.map((w) => w.controller).filter((c) => c !== 'cgroup'))].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  );
  return {
    dir,
    mountPoint: host.mountPoint,
    ownedRoot,
    controllers,
    writes,
    deviceRules: planDeviceRules(spec),
    warnings: ignoredFields(resources),
  };
}

function rank(controller: string): number {
  const i = CONTROLLER_ORDER.indexOf(controller);
  return i < 0 ? CONTROLLER_ORDER.length : i;
}

/** Describes what the host's v2 hierarchy offers, for refusals. */
export function describeHost(host: CgroupHost): string {
  const has = host.controllers.length === 0 ? 'no controllers' : `only: ${host.controllers.join(' ')}`;
  const hybrid = host.hybrid ? ' (cgroup v1 holds the others: hybrid host; see make test-vm)' : '';
  return `this host's v2 hierarchy (${host.mountPoint}) has ${has}${hybrid}`;
}

function checkControllerAvailable(write: FileWrite, host: CgroupHost): void {
  if (write.controller === 'cgroup' || host.controllers.includes(write.controller)) return;
  // Optional writes share their field with a mandatory one of the same controller, so the refusal comes
  // from that one; an optional write alone never blocks a container.
  if (write.optional === true) return;
  throw new ConfigError(write.field, `needs the cgroup v2 "${write.controller}" controller, but ${describeHost(host)}`);
}

// A size the kernel does not offer has no hugetlb.<size>.max file: writing it would fail only after
// the cgroup was made.
function checkHugepageSizes(resources: Resources, host: CgroupHost): void {
  const sizes = host.hugepageSizes;
  if (sizes === undefined) return;
  (resources.hugepageLimits ?? []).forEach((limit, i) => {
    if (sizes.includes(limit.pageSize)) return;
    const has = sizes.length === 0 ? 'none' : sizes.join(', ');
    throw new ConfigError(`${PREFIX}.hugepageLimits[${i}].pageSize`, `this host has no ${limit.pageSize} huge pages (it has ${has})`);
  });
}

/**
 * The rules the device program enforces, in evaluation order: the config's, then tsrun's defaults.
 * A node in linux.devices is only created, not allowed: access needs a linux.resources.devices rule
 * (what runc does — checked side by side on these hosts). Null when no rule denies anything.
 */
export function planDeviceRules(spec: Spec): DeviceRule[] | null {
  const configured = (spec.linux?.resources?.devices ?? []).map((r, i) => normaliseRule(r, `${PREFIX}.devices[${i}]`));
  const rules = [...configured, ...DEFAULT_ALLOWED_DEVICES.map((d) => d.rule)];
  return allowsEverything(rules) ? null : rules;
}

/** Fields of linux.resources with no cgroup v2 file, reported instead of silently dropped. */
function ignoredFields(resources: Resources): string[] {
  const out: string[] = [];
  const note = (field: string, why: string): void => void out.push(`${PREFIX}.${field} ignored: ${why}`);
  const m = resources.memory;
  if (m?.kernel !== undefined) note('memory.kernel', 'kernel memory is part of memory.max on cgroup v2');
  if (m?.kernelTCP !== undefined) note('memory.kernelTCP', 'TCP buffer memory is part of memory.max on cgroup v2');
  if (m?.swappiness !== undefined) note('memory.swappiness', 'cgroup v2 has no per-cgroup swappiness');
  if (resources.blockIO?.leafWeight !== undefined) note('blockIO.leafWeight', 'cgroup v2 has no leaf weights');
  if (resources.blockIO?.weightDevice?.some((d) => d.leafWeight !== undefined)) note('blockIO.weightDevice[].leafWeight', 'cgroup v2 has no leaf weights');
  if (resources.network !== undefined) note('network', 'net_cls/net_prio exist only in cgroup v1');
  if (resources.rdma !== undefined) note('rdma', 'not supported by tsrun yet');
  return out;
}
