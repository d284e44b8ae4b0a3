// Capability numbers to names (capability(7), linux/capability.h), and decoding of the hex masks in
// /proc/self/status. Bit N of CapEff set = capability N is effective.

import { CAPABILITY_NAMES } from '../abi/capabilities.js';

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
