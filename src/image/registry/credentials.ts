// Credentials for a registry, read from the files podman, skopeo and docker write (`podman login`,
// `docker login`): $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
// $XDG_CONFIG_HOME/containers/auth.json, ~/.docker/config.json, first match wins. Only inline
// credentials (`auth`, or `username` + `password`) are read; credential helpers (`credsStore`,
// `credHelpers`) would mean running a program and are not supported. Credentials are never
// printed: not in errors, not with --debug.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';

export interface Credentials {
  username: string;
  password: string;
  /** Where they were found (a file name: safe to print). */
  from: string;
}

export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir();
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(`${env.XDG_RUNTIME_DIR}/containers/auth.json`);
  files.push(`${env.XDG_CONFIG_HOME || `${home}/.config`}/containers/auth.json`);
  files.push(`${env.DOCKER_CONFIG || `${home}/.docker`}/config.json`);
  return files;
}

/** `https://index.docker.io/v1/` → `docker.io`; `host:5000/ns/` → `host:5000/ns`. */
export function normalizeAuthKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  k = k.replace(/\/v[12]$/, '');
  if (k === 'index.docker.io' || k === 'registry-1.docker.io') k = 'docker.io';
  return k;
}

interface AuthEntry { auth?: unknown; username?: unknown; password?: unknown }

function decode(entry: AuthEntry): { username: string; password: string } | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon > 0) return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  return undefined;
}

/**
 * Credentials for `registry/repository` from one parsed auth file: the most specific key wins
 * (`host/org/app`, then `host/org`, then `host`), as in containers' auth.json.
 */
export function credentialsIn(data: unknown, registry: string, repository: string, from: string): Credentials | undefined {
  const auths = (data as { auths?: unknown } | null)?.auths;
  if (typeof auths !== 'object' || auths === null) return undefined;
  const byKey = new Map<string, AuthEntry>();
  for (const [k, v] of Object.entries(auths as Record<string, unknown>)) {
    if (typeof v === 'object' && v !== null) byKey.set(normalizeAuthKey(k), v as AuthEntry);
  }
  const parts = repository.split('/');
  for (let n = parts.length; n >= 0; n--) {
    const key = [registry, ...parts.slice(0, n)].join('/');
    const entry = byKey.get(key);
    const creds = entry && decode(entry);
    if (creds) return { ...creds, from };
  }
  return undefined;
}

/** The first credentials found for `registry/repository` in the usual files, or undefined. */
export function findCredentials(registry: string, repository: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  for (const file of authFiles(env)) {
    let data: unknown;
    try { data = JSON.parse(readFileSync(file, 'utf8')); } catch { continue; }
    const c = credentialsIn(data, registry, repository, file);
    if (c) return c;
  }
  return undefined;
}
