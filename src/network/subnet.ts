// IPv4 subnets for the networks tsrun makes: parsed, checked for overlap, and the next free /24 of
// 10.89.0.0/16 picked when none is given (podman takes 10.88.0.0/16 for its own default).
import { ConfigError } from '../errors.js';

export interface Subnet { base: number; prefix: number }

const toInt = (ip: string): number | undefined => {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
};
export const ipString = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export function parseSubnet(cidr: string, field = '--subnet'): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = m ? toInt(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (base === undefined || !(prefix >= 8 && prefix <= 30)) {
    throw new ConfigError(field, `${JSON.stringify(cidr)} is not an IPv4 subnet from /8 to /30 (e.g. 10.89.5.0/24)`);
  }
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new ConfigError(field, `${cidr} has host bits set: the subnet is ${ipString(base - (base % size))}/${prefix}`);
  return { base, prefix };
}

export const subnetString = (s: Subnet): string => `${ipString(s.base)}/${s.prefix}`;
/** The first address: the bridge's, the containers' gateway. */
export const gatewayOf = (s: Subnet): string => ipString(s.base + 1);

export function overlaps(a: Subnet, b: Subnet): boolean {
  const end = (s: Subnet): number => s.base + 2 ** (32 - s.prefix);
  return a.base < end(b) && b.base < end(a);
}

/** 10.89.N.0/24 for the smallest N that overlaps none of `taken`. */
export function freeSubnet(taken: readonly Subnet[]): Subnet {
  for (let n = 0; n < 256; n++) {
    const candidate = { base: (10 * 256 + 89) * 65536 + n * 256, prefix: 24 };
    if (!taken.some((t) => overlaps(t, candidate))) return candidate;
  }
  throw new ConfigError('--subnet', 'every /24 of 10.89.0.0/16 is taken by a network: give one');
}

/** The IPv4 subnets a list's host-local ranges use (for overlap checks and `network ls`). */
export function subnetsOf(plugins: readonly Record<string, unknown>[]): string[] {
  const out: string[] = [];
  for (const p of plugins) {
    const ipam = p.ipam as { subnet?: unknown; ranges?: unknown } | undefined;
    if (!ipam) continue;
    if (typeof ipam.subnet === 'string') out.push(ipam.subnet);
    if (Array.isArray(ipam.ranges)) {
      for (const set of ipam.ranges) for (const r of Array.isArray(set) ? set : []) if (r && typeof r.subnet === 'string') out.push(r.subnet);
    }
  }
  return out;
}
