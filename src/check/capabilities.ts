// Capability numbers to names (capability(7), linux/capability.h), and decoding of the hex masks in
// /proc/self/status. Bit N of CapEff set = capability N is effective.

export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Name of capability `bit`; numbers newer than this table print as `cap_<N>`, as libcap does. */
export function capabilityName(bit: number): string {
  return CAPABILITY_NAMES[bit] ?? `cap_${bit}`;
}

/** `000001fffeffffff` → the names of the set bits, lowest first. Undefined for a malformed mask. */
export function decodeCapabilityMask(hex: string): string[] | undefined {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) return undefined;
  const mask = BigInt(`0x${hex}`);
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask >> BigInt(bit)) & 1n) names.push(capabilityName(bit));
  }
  return names;
}

/** Every capability this kernel knows: 0 … /proc/sys/kernel/cap_last_cap. */
export function allCapabilities(lastCap: number): string[] {
  return Array.from({ length: lastCap + 1 }, (_v, bit) => capabilityName(bit));
}
