// Who tsrun runs as and which capabilities it holds. Being uid 0 is not what matters to the kernel:
// each privileged operation checks one capability (mount needs CAP_SYS_ADMIN), and root started
// inside a container or by a hardened service may be missing some.
import { allCapabilities, decodeCapabilityMask } from './capabilities.js';
import { parseProcStatus } from './proc-status.js';
import { item, withFacts, type CheckItem } from './report.js';

export interface PrivilegeInputs {
  euid: number;
  /** Contents of /proc/self/status. */
  status: string;
  /** Contents of /proc/sys/kernel/cap_last_cap: the highest capability number this kernel knows. */
  capLastCap?: string;
  /** Contents of /proc/self/uid_map. */
  uidMap?: string;
}

export interface PrivilegeProbe {
  items: CheckItem[];
  /** Root with CAP_SYS_ADMIN: may create namespaces and mount without a user namespace. */
  privileged: boolean;
  /** True when this process is in the initial user namespace (uid_map maps all of 0…2^32-2 to itself). */
  initialUserNamespace: boolean;
}

/** Why a container runtime needs each capability it is most likely to miss. */
const WHY_NEEDED: Record<string, string> = {
  CAP_SYS_ADMIN: 'mount, pivot_root, sethostname, namespaces',
  CAP_SYS_RESOURCE: 'process.rlimits above the current hard limit',
  CAP_SETUID: 'switching to process.user, writing uid_map',
  CAP_SETGID: 'switching to process.user, writing gid_map',
  CAP_SETPCAP: 'dropping capabilities from the bounding set',
  CAP_NET_ADMIN: 'configuring container networks',
  CAP_MKNOD: 'creating linux.devices nodes',
  CAP_SYS_CHROOT: 'chroot, when pivot_root is not possible',
  CAP_BPF: 'loading the device-rule eBPF program (or CAP_SYS_ADMIN)',
  CAP_DAC_OVERRIDE: 'preparing root filesystems owned by other users',
  CAP_CHOWN: 'chowning /dev and the console to the container user',
};

/** The initial user namespace maps every uid to itself: `0 0 4294967295`. */
export function isInitialUserNamespace(uidMap: string | undefined): boolean {
  if (uidMap === undefined) return true;
  return uidMap.trim().split(/\s+/).join(' ') === '0 0 4294967295';
}

function explainMissing(missing: string[]): string {
  return missing.map((c) => (WHY_NEEDED[c] ? `${c} (${WHY_NEEDED[c]})` : c)).join(', ');
}

function userItem(euid: number, initialNs: boolean): CheckItem {
  if (euid === 0) {
    return item('privileges', 'user', 'ok', initialNs
      ? 'running as root (euid 0) in the initial user namespace'
      : 'running as root of a user namespace: privileged over its own namespaces only, not over the host');
  }
  return item('privileges', 'user', 'warn', `running as uid ${euid}: tsrun must first create a user namespace to be root inside it (rootless)`,
    'run tsrun as root (sudo), or rely on rootless mode (see namespaces/rootless); cgroup limits then need a delegated cgroup');
}

function capabilitySetItem(name: 'CapEff' | 'CapBnd', hex: string | undefined, all: string[], euid: number): { item: CheckItem; caps: string[] } {
  const caps = hex === undefined ? undefined : decodeCapabilityMask(hex);
  if (caps === undefined) return { item: item('privileges', name, 'warn', `cannot read ${name} from /proc/self/status`), caps: [] };
  const missing = all.filter((c) => !caps.includes(c));
  const facts = { mask: hex ?? '', capabilities: caps, missing };
  const what = name === 'CapEff' ? 'effective capabilities: what tsrun itself may do' : 'bounding set: the most any container started from here can be given';
  if (missing.length === 0) return { item: withFacts(item('privileges', name, 'ok', `all ${all.length} ${what} (${hex})`), facts), caps };
  if (name === 'CapEff' && caps.length === 0 && euid !== 0) {
    return { item: withFacts(item('privileges', name, 'warn', `none (${hex}): an ordinary user; inside a new user namespace tsrun gets a full set, valid only there`,
      'expected for a non-root user; run as root for containers with host-level privileges'), facts), caps };
  }
  const fix = name === 'CapEff'
    ? `whatever started tsrun dropped ${missing.length === 1 ? 'it' : 'them'} (a container, systemd CapabilityBoundingSet=, capsh --drop); run tsrun from a full root shell`
    : `a config asking for ${missing.length === 1 ? 'it' : 'these'} cannot get ${missing.length === 1 ? 'it' : 'them'}: the bounding set only ever shrinks, across every exec; start tsrun from a process with a full set`;
  return { item: withFacts(item('privileges', name, 'warn', `${caps.length} of ${all.length} ${what} (${hex}); missing ${explainMissing(missing)}`, fix), facts), caps };
}

export function probePrivileges(input: PrivilegeInputs): PrivilegeProbe {
  const status = parseProcStatus(input.status);
  const lastCap = Number(input.capLastCap?.trim() ?? NaN);
  // Without cap_last_cap (kernels before 3.2), assume the capabilities this table knows.
  const all = allCapabilities(Number.isInteger(lastCap) && lastCap >= 0 ? lastCap : 40);
  const initialUserNamespace = isInitialUserNamespace(input.uidMap);
  const eff = capabilitySetItem('CapEff', status.get('CapEff'), all, input.euid);
  const bnd = capabilitySetItem('CapBnd', status.get('CapBnd'), all, input.euid);
  const hasSysAdmin = status.get('CapEff') === undefined ? input.euid === 0 : eff.caps.includes('CAP_SYS_ADMIN');
  return {
    items: [userItem(input.euid, initialUserNamespace), eff.item, bnd.item],
    privileged: input.euid === 0 && hasSysAdmin,
    initialUserNamespace,
  };
}
