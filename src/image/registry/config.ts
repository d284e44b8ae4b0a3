// Registry settings: mirrors, insecure registries and extra CAs, from tsrun's own registries.json.
//
// Why JSON and not containers-registries.conf (TOML): Node reads JSON itself, while TOML needs a
// parser (a dependency, or a hand-written subset that would accept some files podman accepts and
// misread others). And most of registries.conf is about short-name search and aliases, which tsrun
// does not do (a short name always means docker.io, as with docker): reading podman's file would
// apply half of it silently. The fields keep registries.conf's names, so moving a [[registry]]
// table over is mechanical:
//
//   { "registries": [
//       { "location": "docker.io", "mirrors": [{ "location": "mirror.local:5000", "insecure": true }] },
//       { "location": "registry.internal:5000", "ca": "/etc/tsrun/internal-ca.pem" },
//       { "location": "10.0.0.5:5000", "insecure": true } ] }
//
// Looked for in $TSRUN_REGISTRIES_CONF, else $XDG_CONFIG_HOME/tsrun/registries.json (~/.config/…),
// else /etc/tsrun/registries.json: the first that exists is used whole (as containers does with its
// user and system files). A `location` names a registry or a namespace in it (`host/org`); the
// longest one that prefixes the image's `registry/repository` applies.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { TsrunError } from '../../errors.js';

export interface Endpoint {
  /** `host[:port]`, optionally followed by a path that replaces `location`'s (mirrors). */
  location: string;
  /** Plain HTTP allowed, and TLS certificates not verified. */
  insecure?: boolean;
}

export interface RegistryEntry extends Endpoint {
  /** PEM file of CA certificates trusted for this registry and its mirrors (besides the system's). */
  ca?: string;
  /** Tried in order before the registry itself. */
  mirrors?: Endpoint[];
  /** Refuse to pull from it. */
  blocked?: boolean;
}

export interface RegistriesConfig {
  registries: RegistryEntry[];
  /** The file it came from, for messages (undefined: no file, defaults). */
  file?: string;
}

/** Candidate config files, most specific first. */
export function configCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.TSRUN_REGISTRIES_CONF) return [env.TSRUN_REGISTRIES_CONF];
  const xdg = env.XDG_CONFIG_HOME || `${env.HOME || homedir()}/.config`;
  return [`${xdg}/tsrun/registries.json`, '/etc/tsrun/registries.json'];
}

function fail(file: string, what: string): never {
  throw new TsrunError(`${file}: ${what}`, { file });
}

function endpoint(v: unknown, file: string, at: string): Endpoint {
  if (typeof v !== 'object' || v === null) fail(file, `${at}: not an object`);
  const o = v as Record<string, unknown>;
  if (typeof o.location !== 'string' || o.location === '' || /^[a-z]+:\/\//.test(o.location)) fail(file, `${at}.location: a host[:port][/path] (no scheme) is required`);
  if (o.insecure !== undefined && typeof o.insecure !== 'boolean') fail(file, `${at}.insecure: not a boolean`);
  return { location: o.location.replace(/\/+$/, ''), ...(o.insecure ? { insecure: true } : {}) };
}

/** Validates a parsed registries.json. */
export function parseRegistriesConfig(data: unknown, file: string): RegistriesConfig {
  if (typeof data !== 'object' || data === null) fail(file, 'not a JSON object');
  const list = (data as { registries?: unknown }).registries ?? [];
  if (!Array.isArray(list)) fail(file, 'registries: not an array');
  const registries = list.map((v, i): RegistryEntry => {
    const at = `registries[${i}]`;
    const base = endpoint(v, file, at);
    const o = v as Record<string, unknown>;
    if (o.ca !== undefined && typeof o.ca !== 'string') fail(file, `${at}.ca: not a path`);
    if (o.blocked !== undefined && typeof o.blocked !== 'boolean') fail(file, `${at}.blocked: not a boolean`);
    if (o.mirrors !== undefined && !Array.isArray(o.mirrors)) fail(file, `${at}.mirrors: not an array`);
    const mirrors = ((o.mirrors ?? []) as unknown[]).map((m, j) => endpoint(m, file, `${at}.mirrors[${j}]`));
    return { ...base, ...(typeof o.ca === 'string' ? { ca: o.ca } : {}), ...(mirrors.length ? { mirrors } : {}), ...(o.blocked ? { blocked: true } : {}) };
  });
  return { registries, file };
}

/** The registries config in effect (no file: no mirrors, nothing insecure but loopback). */
export function loadRegistriesConfig(env: NodeJS.ProcessEnv = process.env): RegistriesConfig {
  for (const file of configCandidates(env)) {
    if (!existsSync(file)) {
      if (env.TSRUN_REGISTRIES_CONF) fail(file, 'no such file (TSRUN_REGISTRIES_CONF)');
      continue;
    }
    let data: unknown;
    try { data = JSON.parse(readFileSync(file, 'utf8')); } catch (e) { fail(file, `not valid JSON: ${(e as Error).message}`); }
    return parseRegistriesConfig(data, file);
  }
  return { registries: [] };
}

/** The entry whose location is the longest prefix (by path component) of `registry/repository`. */
export function entryFor(config: RegistriesConfig, registry: string, repository: string): RegistryEntry | undefined {
  const full = `${registry}/${repository}`;
  let best: RegistryEntry | undefined;
  for (const e of config.registries) {
    if (full !== e.location && !full.startsWith(`${e.location}/`)) continue;
    if (!best || e.location.length > best.location.length) best = e;
  }
  return best;
}
