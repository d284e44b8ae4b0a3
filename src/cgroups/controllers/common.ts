// Small helpers shared by the per-controller converters.
import { ConfigError } from '../../errors.js';

/** cgroup v2 spells "unlimited" as `max`; the OCI spec spells it -1. */
export function limitValue(n: number): string {
  return n === -1 ? 'max' : String(n);
}

/** Refuses anything but a whole number: cgroup files take integers, and NaN or 1.5 would be written verbatim. */
export function requireInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ConfigError(field, `must be an integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Limits are positive, or -1 for unlimited. */
export function requireLimit(field: string, value: unknown): number {
  const n = requireInteger(field, value);
  if (n < -1) throw new ConfigError(field, `must be -1 (unlimited) or a non-negative number, got ${n}`);
  return n;
}
