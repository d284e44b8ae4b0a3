// The pure parts of pulling: references, WWW-Authenticate challenges, auth.json lookups,
// registries.json, platforms.
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseChallenges } from '../../../../src/image/registry/challenge.js';
import { entryFor, loadRegistriesConfig, parseRegistriesConfig } from '../../../../src/image/registry/config.js';
import { authFiles, credentialsIn, findCredentials, normalizeAuthKey } from '../../../../src/image/registry/credentials.js';
import { parsePlatform, pickPlatform } from '../../../../src/image/registry/platform.js';
import { apiHost, isLoopback, parseRegistryRef } from '../../../../src/image/registry/reference.js';
import type { Descriptor } from '../../../../src/image/types.js';
import { tempDir } from '../fixtures.js';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseRegistryRef', () => {
  it.each([
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest', name: 'docker.io/library/busybox:latest' }],
    ['localhost:5000/app:1.0', { registry: 'localhost:5000', repository: 'app', tag: '1.0', name: 'localhost:5000/app:1.0' }],
    ['quay.io/org/sub/app', { registry: 'quay.io', repository: 'org/sub/app', tag: 'latest' }],
    [`127.0.0.1:5000/app@${D}`, { registry: '127.0.0.1:5000', repository: 'app', digest: D, name: `127.0.0.1:5000/app@${D}` }],
    [`app:2@${D}`, { repository: 'library/app', tag: '2', digest: D }],
  ])('%s', (ref, want) => {
    expect(parseRegistryRef(ref)).toMatchObject(want);
  });

  it.each(['/a/path', 'UPPER', 'reg.example/UP', 'sha256:abcd', 'a@sha512:' + 'ab'.repeat(64)])('%s is no reference', (ref) => {
    expect(parseRegistryRef(ref)).toBeUndefined();
  });

  it('docker.io is served by registry-1.docker.io; loopback registries are known as such', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('quay.io')).toBe('quay.io');
    expect(['localhost:5000', '127.0.0.1:80', '127.3.2.1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1:5000', 'localhost.example.com', 'quay.io'].some(isLoopback)).toBe(false);
  });
});

describe('parseChallenges', () => {
  it('a Bearer challenge with quoted parameters (and an escaped quote)', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
    expect(parseChallenges('Basic realm="a \\"b\\" c"')).toEqual([{ scheme: 'basic', params: { realm: 'a "b" c' } }]);
  });

  it('several challenges in one header, tokens unquoted', () => {
    expect(parseChallenges('Basic realm=reg, Bearer realm="https://t/x", error=invalid_token')).toEqual([
      { scheme: 'basic', params: { realm: 'reg' } },
      { scheme: 'bearer', params: { realm: 'https://t/x', error: 'invalid_token' } },
    ]);
    expect(parseChallenges('')).toEqual([]);
  });
});

describe('credentials from auth.json', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const data = {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
      'reg.example:5000': { auth: b64('u:p:with:colons') },
      'reg.example:5000/team': { username: 'team', password: 'tpw' },
      'broken.example': { auth: b64('nocolon') },
    },
  };

  it('keys are read as podman and docker write them', () => {
    expect(normalizeAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeAuthKey('http://reg:5000/v2/')).toBe('reg:5000');
    expect(normalizeAuthKey('quay.io/org/')).toBe('quay.io/org');
  });

  it('the most specific key wins; a password may hold colons; a broken entry gives nothing', () => {
    expect(credentialsIn(data, 'docker.io', 'library/busybox', 'f')).toEqual({ username: 'hub', password: 'hubpw', from: 'f' });
    expect(credentialsIn(data, 'reg.example:5000', 'app', 'f')).toMatchObject({ username: 'u', password: 'p:with:colons' });
    expect(credentialsIn(data, 'reg.example:5000', 'team/app', 'f')).toMatchObject({ username: 'team', password: 'tpw' });
    expect(credentialsIn(data, 'broken.example', 'app', 'f')).toBeUndefined();
    expect(credentialsIn({}, 'docker.io', 'x', 'f')).toBeUndefined();
  });

  let cleanup: (() => void) | undefined;
  afterEach(() => { cleanup?.(); cleanup = undefined; });

  it('files in order: REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR, $XDG_CONFIG_HOME, ~/.docker', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const env = { HOME: t.dir, XDG_RUNTIME_DIR: `${t.dir}/run`, REGISTRY_AUTH_FILE: `${t.dir}/explicit.json` };
    expect(authFiles(env)).toEqual([`${t.dir}/explicit.json`, `${t.dir}/run/containers/auth.json`, `${t.dir}/.config/containers/auth.json`, `${t.dir}/.docker/config.json`]);
    mkdirSync(`${t.dir}/.docker`);
    writeFileSync(`${t.dir}/.docker/config.json`, JSON.stringify({ auths: { 'r.example': { auth: b64('docker:d') } } }));
    expect(findCredentials('r.example', 'x', env)).toEqual({ username: 'docker', password: 'd', from: `${t.dir}/.docker/config.json` });
    mkdirSync(`${t.dir}/run/containers`, { recursive: true });
    writeFileSync(`${t.dir}/run/containers/auth.json`, JSON.stringify({ auths: { 'r.example': { auth: b64('podman:p') } } }));
    expect(findCredentials('r.example', 'x', env)?.username).toBe('podman');
  });
});

describe('registries.json', () => {
  const cfg = parseRegistriesConfig({
    registries: [
      { location: 'docker.io', mirrors: [{ location: 'mirror.local:5000', insecure: true }] },
      { location: 'docker.io/library', ca: '/etc/tsrun/ca.pem' },
      { location: '10.0.0.5:5000', insecure: true },
      { location: 'evil.example', blocked: true },
    ],
  }, 'f.json');

  it('the longest location on a component boundary applies', () => {
    expect(entryFor(cfg, 'docker.io', 'library/busybox')?.ca).toBe('/etc/tsrun/ca.pem');
    expect(entryFor(cfg, 'docker.io', 'user/app')?.mirrors).toEqual([{ location: 'mirror.local:5000', insecure: true }]);
    expect(entryFor(cfg, 'docker.io', 'libraryx/app')?.location).toBe('docker.io');
    expect(entryFor(cfg, '10.0.0.5:5000', 'a')?.insecure).toBe(true);
    expect(entryFor(cfg, '10.0.0.5:50000', 'a')).toBeUndefined();
  });

  it.each([
    [{ registries: {} }, 'f.json: registries: not an array'],
    [{ registries: [{ location: 'https://x' }] }, 'f.json: registries[0].location: a host[:port][/path] (no scheme) is required'],
    [{ registries: [{ location: 'x', insecure: 'yes' }] }, 'f.json: registries[0].insecure: not a boolean'],
    [{ registries: [{ location: 'x', mirrors: [{}] }] }, 'f.json: registries[0].mirrors[0].location: a host[:port][/path] (no scheme) is required'],
  ])('%j is refused, naming the field', (data, message) => {
    expect(() => parseRegistriesConfig(data, 'f.json')).toThrow(message);
  });

  let cleanup: (() => void) | undefined;
  afterEach(() => { cleanup?.(); cleanup = undefined; });

  it('$XDG_CONFIG_HOME/tsrun/registries.json is read; TSRUN_REGISTRIES_CONF must exist when set', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    mkdirSync(`${t.dir}/tsrun`);
    writeFileSync(`${t.dir}/tsrun/registries.json`, JSON.stringify({ registries: [{ location: 'a.example', insecure: true }] }));
    expect(loadRegistriesConfig({ XDG_CONFIG_HOME: t.dir })).toEqual({ registries: [{ location: 'a.example', insecure: true }], file: `${t.dir}/tsrun/registries.json` });
    expect(() => loadRegistriesConfig({ TSRUN_REGISTRIES_CONF: `${t.dir}/nope.json` })).toThrow(`${t.dir}/nope.json: no such file (TSRUN_REGISTRIES_CONF)`);
    writeFileSync(`${t.dir}/bad.json`, '{');
    expect(() => loadRegistriesConfig({ TSRUN_REGISTRIES_CONF: `${t.dir}/bad.json` })).toThrow(`${t.dir}/bad.json: not valid JSON`);
  });
});

describe('platforms', () => {
  const m = (architecture: string, variant?: string): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${architecture}${variant ?? ''}`, size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
  });
  const index = [m('amd64'), m('arm', 'v6'), m('arm', 'v7'), m('arm64', 'v8')];

  it('parses os/arch[/variant] and refuses anything else', () => {
    expect(parsePlatform('linux/arm64')).toEqual({ os: 'linux', architecture: 'arm64' });
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(() => parsePlatform('amd64')).toThrow('--platform "amd64": expected os/arch or os/arch/variant');
  });

  it('picks by os and architecture, and by variant when one is asked for', () => {
    expect(pickPlatform(index, { os: 'linux', architecture: 'amd64' })?.digest).toBe('sha256:amd64');
    expect(pickPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest).toBe('sha256:armv7');
    expect(pickPlatform(index, { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest).toBe('sha256:arm64v8');
    expect(pickPlatform([m('arm64')], { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest).toBe('sha256:arm64');
    expect(pickPlatform(index, { os: 'linux', architecture: 's390x' })).toBeUndefined();
  });
});
