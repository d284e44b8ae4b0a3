// The cgroup items of a report. tsrun's cgroup driver speaks v2 only (one hierarchy, one set of file
// names), so what matters is where cgroup2 is mounted and which controllers it was left with.
import { fixForMissing, parseProcCgroups, UNIFY_FIX } from './cgroup-controllers.js';
import { findCgroupLayout, parseControllerList, v1Controllers, type CgroupLayoutInfo } from './cgroup-layout.js';
import { kernelAtLeast, parseKernelRelease } from './kernel.js';
import { parseMountInfo } from '../host/mountinfo.js';
import { item, withFacts, type CheckItem, type ItemFact } from './report.js';

export interface CgroupInputs {
  mountinfo: string;
  /** Contents of `<cgroup2 mount>/cgroup.controllers`, when there is a mount and it was readable. */
  v2Controllers?: string;
  /** Contents of /proc/cgroups, to tell why a controller is missing from cgroup2. */
  procCgroups?: string;
  kernelRelease: string;
}

export interface CgroupProbe {
  items: CheckItem[];
  layout: CgroupLayoutInfo;
  v2Controllers: string[];
}

/** The v2 controllers behind `linux.resources`, with the config field each one serves. */
const LIMIT_CONTROLLERS: [controller: string, field: string][] = [
  ['memory', 'memory'], ['cpu', 'cpu.shares/quota'], ['cpuset', 'cpu.cpus/mems'],
  ['pids', 'pids'], ['io', 'blockIO'], ['hugetlb', 'hugepageLimits'],
];

function layoutItem(info: CgroupLayoutInfo): CheckItem {
  const facts: Record<string, ItemFact> = { layout: info.layout };
  if (info.v2MountPoint !== undefined) facts.v2MountPoint = info.v2MountPoint;
  const held = v1Controllers(info);
  switch (info.layout) {
    case 'v2':
      return withFacts(item('cgroups', 'layout', 'ok', `cgroup v2 only (the unified hierarchy) at ${info.v2MountPoint}`), facts);
    case 'hybrid':
      return withFacts(item('cgroups', 'layout', held.length > 0 ? 'warn' : 'ok',
        `hybrid: cgroup2 at ${info.v2MountPoint} beside ${info.v1Hierarchies.length} cgroup v1 hierarchies` +
        (held.length > 0 ? '; tsrun uses only cgroup2' : ' that hold no controllers'),
        held.length > 0 ? UNIFY_FIX : undefined), facts);
    case 'v1':
      return withFacts(item('cgroups', 'layout', 'warn', 'cgroup v1 only; tsrun\'s cgroup driver needs cgroup2',
        `containers run, but with no limits and no device rules; ${UNIFY_FIX}`), facts);
    case 'none':
      return withFacts(item('cgroups', 'layout', 'missing', 'no cgroup filesystem is mounted',
        'containers run without limits or device rules; mount -t cgroup2 cgroup2 /sys/fs/cgroup'), facts);
  }
}

function v2ControllersItem(info: CgroupLayoutInfo, text: string | undefined, procCgroups: string | undefined): CheckItem | undefined {
  if (info.v2MountPoint === undefined) return undefined;
  if (text === undefined) {
    return item('cgroups', 'v2 controllers', 'warn', `cannot read ${info.v2MountPoint}/cgroup.controllers`,
      'run tsrun check as root, or mount cgroup2 readable by this user');
  }
  const have = parseControllerList(text);
  const lacking = LIMIT_CONTROLLERS.filter(([c]) => !have.includes(c));
  const list = have.length > 0 ? have.join(', ') : 'none';
  const facts = { controllers: have, missing: lacking.map(([c]) => c) };
  if (lacking.length === 0) return withFacts(item('cgroups', 'v2 controllers', 'ok', `${list}: every linux.resources limit can be applied`), facts);
  const names = lacking.map(([c]) => c).join('/');
  const fields = lacking.map(([, f]) => f).join(', ');
  return withFacts(item('cgroups', 'v2 controllers', 'warn', `has ${list}; lacks ${lacking.map(([c]) => c).join(', ')}`,
    `limits for ${names} cannot be applied here (tsrun refuses configs setting linux.resources ${fields}); ` +
    fixForMissing(facts.missing, v1Controllers(info), procCgroups === undefined ? undefined : parseProcCgroups(procCgroups))), facts);
}

/**
 * What podman, buildah, containerd's ctr and docker need of the v2 controllers with their default
 * settings: the limits they set by default only restate a cgroup's default, and are dropped with a
 * warning where the controller is missing (cgroups/client-defaults.ts); a limit a user asks for is not.
 */
function clientsItem(info: CgroupLayoutInfo, text: string | undefined): CheckItem | undefined {
  if (info.v2MountPoint === undefined || text === undefined) return undefined;
  const have = parseControllerList(text);
  const lacks = (c: string): boolean => !have.includes(c);
  if (!lacks('cpu') && !lacks('pids') && !lacks('memory')) {
    return item('cgroups', 'clients', 'ok', 'podman, buildah, ctr and docker can set every limit they offer (--memory, --cpus, --pids-limit…)');
  }
  const notes = [
    lacks('pids') ? 'podman and buildah set a pids limit of 2048 (containers.conf pids_limit): not applied here, with a warning; --pids-limit N is refused (0 or -1: no limit, fine)' : 'podman and buildah: their default pids limit of 2048 is applied',
    lacks('cpu') ? '`ctr run` sets cpu shares 1024: not applied here, with a warning; --cpu-shares N (other than 1024), --cpus and --cpu-quota are refused' : '`ctr run`: its cpu shares are applied',
    'docker sets no limit by default',
  ];
  const refused = ['memory', 'cpu', 'pids', 'cpuset', 'io'].filter(lacks);
  return item('cgroups', 'clients', 'warn', `their defaults run: ${notes.join('; ')}`,
    `explicit limits need the ${refused.join(', ')} controller${refused.length > 1 ? 's' : ''} in cgroup2 (tsrun refuses them, naming the field); see the README, cgroups on hybrid hosts`);
}

/** `cpu, memory under /sys/fs/cgroup/` when the mount points share a parent, else each with its path. */
function describeHierarchies(info: CgroupLayoutInfo): string {
  const withControllers = info.v1Hierarchies.filter((h) => h.controllers.length > 0);
  const parents = new Set(withControllers.map((h) => h.mountPoint.slice(0, h.mountPoint.lastIndexOf('/') + 1)));
  if (parents.size === 1) return `${withControllers.map((h) => h.controllers.join(',')).join(', ')} (under ${[...parents][0]})`;
  return withControllers.map((h) => `${h.controllers.join(',')} at ${h.mountPoint}`).join(', ');
}

function v1Item(info: CgroupLayoutInfo): CheckItem | undefined {
  const held = v1Controllers(info);
  if (held.length === 0) return undefined;
  return withFacts(item('cgroups', 'v1 controllers', 'warn',
    `${describeHierarchies(info)}. A controller serves one hierarchy only, so these are not available to cgroup2`,
    'they return to cgroup2 once v1 stops claiming them: boot with cgroup_no_v1=all'), { controllers: held });
}

function v2FeatureItems(info: CgroupLayoutInfo, release: string): CheckItem[] {
  if (info.v2MountPoint === undefined) {
    return [item('cgroups', 'device rules', 'missing', 'linux.resources.devices is enforced by an eBPF program attached to a v2 cgroup, and there is none',
      'containers can open any device node they can see; mount cgroup2')];
  }
  const v = parseKernelRelease(release);
  return [
    item('cgroups', 'device rules', 'ok', 'linux.resources.devices becomes an eBPF program attached to the container\'s v2 cgroup; it needs no controller, so it works on hybrid hosts too'),
    kernelAtLeast(v, 5, 2)
      ? item('cgroups', 'freeze', 'ok', 'cgroup.freeze (5.2) stops every process of a container at once (pause/resume)')
      : item('cgroups', 'freeze', 'missing', 'no cgroup.freeze (needs 5.2)', 'containers cannot be paused; use a kernel >= 5.2'),
    kernelAtLeast(v, 5, 14)
      ? item('cgroups', 'kill', 'ok', 'cgroup.kill (5.14) SIGKILLs a whole cgroup in one write, with no race against fork')
      : item('cgroups', 'kill', 'warn', 'no cgroup.kill (needs 5.14): a runtime must signal the PIDs in cgroup.procs one by one, racing any fork (freezing first closes the race)', 'use a kernel >= 5.14'),
  ];
}

export function probeCgroups(input: CgroupInputs): CgroupProbe {
  const layout = findCgroupLayout(parseMountInfo(input.mountinfo));
  const optional = [v2ControllersItem(layout, input.v2Controllers, input.procCgroups), clientsItem(layout, input.v2Controllers), v1Item(layout)];
  const items = [layoutItem(layout), ...optional.filter((i): i is CheckItem => i !== undefined), ...v2FeatureItems(layout, input.kernelRelease)];
  return { items, layout, v2Controllers: input.v2Controllers === undefined ? [] : parseControllerList(input.v2Controllers) };
}
