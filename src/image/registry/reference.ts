// A registry reference split into what the distribution API needs: the registry host, the
// repository path, and a tag or a digest. Short names are read as podman and docker read them
// (image-name.ts): `busybox` is docker.io/library/busybox:latest.
import { TsrunError } from '../../errors.js';
import { normalizeImageName } from '../image-name.js';

export interface RegistryRef {
  /** `host[:port]` as written (docker.io for short names). */
  registry: string;
  /** `library/busybox`. */
  repository: string;
  tag?: string;
  digest?: string;
  /** The full name an image pulled from it is recorded under: `registry/repository:tag` or `…@digest`. */
  name: string;
}

/** The host serving docker.io's distribution API. */
const DOCKER_HUB_API = 'registry-1.docker.io';

/** Parses `[registry/]name[:tag|@digest]`, or undefined when `ref` is not an image name. */
export function parseRegistryRef(ref: string): RegistryRef | undefined {
  const full = normalizeImageName(ref);
  if (full === undefined) return undefined;
  const slash = full.indexOf('/');
  const registry = full.slice(0, slash);
  let rest = full.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  if (digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined;
  // With both, the digest decides what is pulled (docker's rule); the recorded name keeps the tag.
  return { registry, repository: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}), name: full };
}

/**
 * True when `ref` names its registry (`localhost:5000/app`, `docker.io/library/busybox`) rather than
 * being a short name (`busybox`, `user/app`) that only the docker.io default makes a reference.
 */
export function namesRegistry(ref: string): boolean {
  const slash = ref.indexOf('/');
  if (slash < 0) return false;
  const first = ref.slice(0, slash);
  return /[.:]/.test(first) || first === 'localhost';
}

/** parseRegistryRef, or an error naming the reference. */
export function registryRef(ref: string): RegistryRef {
  const r = parseRegistryRef(ref);
  if (!r) throw new TsrunError(`${ref}: not an image reference ([registry/]name[:tag|@sha256:…], lower case)`);
  return r;
}

/** What the manifest URL names: the digest when there is one, else the tag. */
export function manifestReference(r: RegistryRef): string {
  return r.digest ?? r.tag ?? 'latest';
}

/** The host to connect to for `registry` (docker.io's API lives elsewhere). */
export function apiHost(registry: string): string {
  return registry === 'docker.io' ? DOCKER_HUB_API : registry;
}

/** True for a registry on this machine: plain HTTP is allowed there without configuration. */
export function isLoopback(registry: string): boolean {
  const host = hostOf(registry);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `host` of `host[:port]` (a bracketed IPv6 address loses its brackets). */
export function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const colon = registry.lastIndexOf(':');
  return colon >= 0 ? registry.slice(0, colon) : registry;
}
