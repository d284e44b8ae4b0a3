// Device access rules: normalising linux.resources.devices, and the allow list every container gets.
//
// Semantics (those of the v1 devices controller, which runc emulates on v2): the starting point is "allow
// everything"; rules apply in order, so for a given device and access bit the LAST matching rule decides.
// A config that starts with a deny-all rule ({allow:false, access:"rwm"}, as `runc spec` writes) is
// therefore an allow list, and one without it is a deny list.
import { ConfigError } from '../../errors.js';
import type { Device, DeviceCgroup } from '../../oci/types.js';
import type { DeviceRule } from '../types.js';

/** A default rule together with the /dev path it is for, so the rootfs code can create the same nodes. */
export interface DefaultDevice {
  rule: DeviceRule;
  /** The node this rule is for; undefined for wildcard rules. */
  path?: string;
}

const rwm = (type: 'c' | 'b', major: number | null, minor: number | null, path?: string): DefaultDevice => ({
  rule: { allow: true, type, major, minor, access: 'rwm' },
  ...(path === undefined ? {} : { path }),
});

/**
 * What tsrun allows in every container on top of the config's rules, appended after them (so a config
 * cannot deny /dev/null by accident but still decides everything else). The same list as runc: creating
 * any node (mknod alone opens nothing), the standard character devices, the console and ptys.
 */
export const DEFAULT_ALLOWED_DEVICES: readonly DefaultDevice[] = [
  { rule: { allow: true, type: 'c', major: null, minor: null, access: 'm' } },
  { rule: { allow: true, type: 'b', major: null, minor: null, access: 'm' } },
  rwm('c', 1, 3, '/dev/null'),
  rwm('c', 1, 5, '/dev/zero'),
  rwm('c', 1, 7, '/dev/full'),
  rwm('c', 1, 8, '/dev/random'),
  rwm('c', 1, 9, '/dev/urandom'),
  rwm('c', 5, 0, '/dev/tty'),
  rwm('c', 5, 1, '/dev/console'),
  rwm('c', 5, 2, '/dev/ptmx'),
  rwm('c', 136, null, '/dev/pts/*'),
];

/** Puts access letters in canonical order and refuses anything but r, w, m. Empty or absent means rwm. */
export function normaliseAccess(field: string, access: string | undefined): string {
  if (access === undefined || access === '') return 'rwm';
  for (const ch of access) {
    if (!'rwm'.includes(ch)) throw new ConfigError(field, `may only contain r, w and m, got ${JSON.stringify(access)}`);
  }
  return [...'rwm'].filter((ch) => access.includes(ch)).join('');
}

function deviceNumber(field: string, n: number | null | undefined): number | null {
  if (n === undefined || n === null || n === -1) return null; // -1 is how some tools spell the "*" wildcard
  // The program compares with 32-bit signed immediates; Linux majors have 12 bits and minors 20.
  if (!Number.isSafeInteger(n) || n < 0 || n > 0x7fffffff) throw new ConfigError(field, `must be a device number or omitted, got ${JSON.stringify(n)}`);
  return n;
}

export function normaliseRule(rule: DeviceCgroup, field: string): DeviceRule {
  if (typeof rule.allow !== 'boolean') throw new ConfigError(`${field}.allow`, 'must be true or false');
  const type = rule.type ?? 'a';
  if (type !== 'a' && type !== 'c' && type !== 'b') throw new ConfigError(`${field}.type`, `must be "a", "c" or "b", got ${JSON.stringify(type)}`);
  return {
    allow: rule.allow,
    type,
    major: deviceNumber(`${field}.major`, rule.major),
    minor: deviceNumber(`${field}.minor`, rule.minor),
    access: normaliseAccess(`${field}.access`, rule.access),
  };
}

/** True when a rule matches every device with every access (deny-all / allow-all). */
export function isCatchAll(rule: DeviceRule): boolean {
  return rule.type === 'a' && rule.major === null && rule.minor === null && rule.access === 'rwm';
}

/** True when the rules end up allowing everything, so no program needs to be attached at all. */
export function allowsEverything(rules: readonly DeviceRule[]): boolean {
  return rules.every((r) => r.allow);
}
