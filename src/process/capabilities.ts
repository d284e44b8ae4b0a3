// Capability names → the 64-bit masks capset(2) and the bounding-set step take.
import { CAPABILITIES } from '../oci/capabilities.js';

export function capabilityMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const bit = CAPABILITIES[name];
    if (bit !== undefined) mask |= 1n << BigInt(bit);
  }
  return mask;
}

export function capabilityNames(mask: bigint): string[] {
  return Object.entries(CAPABILITIES).filter(([, bit]) => mask & (1n << BigInt(bit))).map(([name]) => name);
}
