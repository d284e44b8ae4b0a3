// Choosing one image of a manifest list / OCI index: linux/amd64 unless `--platform os/arch[/variant]`
// says otherwise. A variant left out matches any (arm64's is v8 when an index names it).
import { TsrunError } from '../../errors.js';
import type { Descriptor, Platform } from '../types.js';

export const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

/** `linux/arm64/v8` → { os, architecture, variant }. */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new TsrunError(`--platform ${JSON.stringify(s)}: expected os/arch or os/arch/variant (e.g. linux/arm64)`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** The index entry for `want`, or undefined; an exact variant match wins over an entry without one. */
export function pickPlatform(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  const candidates = manifests.filter((m) => m.platform?.os === want.os && m.platform.architecture === want.architecture);
  if (want.variant === undefined) return candidates[0];
  return candidates.find((m) => m.platform?.variant === want.variant)
    ?? candidates.find((m) => m.platform?.variant === undefined && (want.architecture !== 'arm64' || want.variant === 'v8'));
}

/** What an index offers, for an error message (attestation entries `unknown/unknown` left out). */
export function offeredPlatforms(manifests: Descriptor[]): string {
  const list = manifests.map((m) => m.platform).filter((p): p is Platform => !!p && p.os !== 'unknown').map(formatPlatform);
  return list.length ? list.join(', ') : 'no platforms';
}
