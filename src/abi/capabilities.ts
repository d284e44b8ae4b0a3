// Linux capability names as written in config.json, with their kernel numbers
// (include/uapi/linux/capability.h), and the 64-bit masks capset(2) and the bounding-set step take.
// The runtime needs the numbers to build masks, and the validator needs the names: an unknown name
// is a config error, not something to skip silently.

// A null prototype, so a lookup such as CAPABILITIES['toString'] is undefined rather than a function.
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze(Object.assign(Object.create(null) as Record<string, number>, {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
}));

/** Highest capability number in the table. The running kernel may know fewer (/proc/sys/kernel/cap_last_cap). */
export const CAP_LAST_CAP = 40;

/** Every capability name, in kernel-number order. */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze(
  Object.keys(CAPABILITIES).sort((a, b) => CAPABILITIES[a]! - CAPABILITIES[b]!),
);

export function isCapabilityName(name: string): boolean {
  return Object.hasOwn(CAPABILITIES, name);
}

/** Kernel number of a capability name, or undefined when the name is unknown. */
export function capabilityNumber(name: string): number | undefined {
  return isCapabilityName(name) ? CAPABILITIES[name] : undefined;
}

/** A known name the user probably meant (`net_admin` → `CAP_NET_ADMIN`), or undefined. */
export function capabilityNameHint(name: string): string | undefined {
  const upper = name.toUpperCase();
  const candidate = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  return candidate !== name && isCapabilityName(candidate) ? candidate : undefined;
}

export function capabilityMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const bit = CAPABILITIES[name];
    if (bit !== undefined) mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** The names of the bits set in `mask`, in CAPABILITIES' order (a new array each call). */
export function capabilityNames(mask: bigint): string[] {
  // A library plans the same masks for every container (~50 us of BigInt work each time): the last
  // few masks' names are kept.
  let names = namesOf.get(mask);
  if (!names) {
    names = Object.entries(CAPABILITIES).filter(([, bit]) => mask & (1n << BigInt(bit))).map(([name]) => name);
    if (namesOf.size >= 32) namesOf.clear();
    namesOf.set(mask, names);
  }
  return [...names];
}
const namesOf = new Map<bigint, readonly string[]>();
