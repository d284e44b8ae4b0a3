// Pulling from registries that want a login or speak TLS with a certificate of their own: a real
// docker-registry with htpasswd (Basic) auth behind a self-signed certificate made by the test, and
// one with token auth (Bearer) against a small token server of the test's. Credentials come from the
// auth.json files podman and docker write, and are never printed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullImage } from '../../../src/image/registry/pull.js';
import { SAMPLE, REPO } from './images.js';
import { startRegistry, startTokenServer, type RunningRegistry, type TokenServer } from './registry-server.js';

const USER = 'tester';
const PASSWORD = 'Secr3t-pa55word';

let work: string;
let tlsReg: RunningRegistry;
let tokenReg: RunningRegistry;
let tokens: TokenServer;

beforeAll(async () => {
  work = mkdtempSync(`${tmpdir()}/tsrun-pull-auth-`);
  tlsReg = await startRegistry({ tls: true, basicAuth: { user: USER, password: PASSWORD } });
  await tlsReg.push(`oci:${SAMPLE}:latest`, 'private/busybox:latest');
  tokens = await startTokenServer(work, USER, PASSWORD);
  tokenReg = await startRegistry({ token: tokens, pushCreds: `${USER}:${PASSWORD}` });
  await tokenReg.push(`oci:${SAMPLE}:latest`, 'public/busybox:latest');
  await tokenReg.push(`oci:${SAMPLE}:latest`, 'private/busybox:latest');
}, 120_000);

afterAll(async () => {
  await tlsReg?.stop();
  await tokenReg?.stop();
  await tokens?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** An environment with its own HOME, config dir and runtime dir (auth.json), and registries.json. */
function envWith(name: string, o: { registries?: unknown; auth?: { user: string; password: string; host: string; where: 'runtime' | 'docker' } }): NodeJS.ProcessEnv {
  const home = `${work}/${name}`;
  const env: NodeJS.ProcessEnv = { HOME: home, XDG_CONFIG_HOME: `${home}/.config`, XDG_RUNTIME_DIR: `${home}/run` };
  if (o.registries) {
    mkdirSync(`${home}/.config/tsrun`, { recursive: true });
    writeFileSync(`${home}/.config/tsrun/registries.json`, JSON.stringify(o.registries));
  }
  if (o.auth) {
    const file = o.auth.where === 'runtime' ? `${home}/run/containers/auth.json` : `${home}/.docker/config.json`;
    mkdirSync(file.slice(0, file.lastIndexOf('/')), { recursive: true });
    const key = o.auth.where === 'docker' ? `https://${o.auth.host}/v1/` : o.auth.host;
    writeFileSync(file, JSON.stringify({ auths: { [key]: { auth: Buffer.from(`${o.auth.user}:${o.auth.password}`).toString('base64') } } }));
  }
  return env;
}

describe('TLS and Basic auth (htpasswd)', () => {
  const trusted = (): unknown => ({ registries: [{ location: tlsReg.host, ca: tlsReg.caFile }] });

  it('a self-signed certificate not trusted: a TLS error naming the registry', async () => {
    await expect(pullImage(`${tlsReg.host}/private/busybox`, { store: `${work}/s-tls`, env: envWith('notrust', {}) })).rejects.toThrow(
      `pull ${tlsReg.host}/private/busybox:latest: TLS: the certificate of ${tlsReg.host} is not trusted (DEPTH_ZERO_SELF_SIGNED_CERT): add its CA as "ca" in registries.json, or mark the registry insecure there`);
  });

  it('trusted through registries.json, but no credentials: says where it looked', async () => {
    const env = envWith('nocreds', { registries: trusted() });
    await expect(pullImage(`${tlsReg.host}/private/busybox`, { store: `${work}/s-nocreds`, env })).rejects.toThrow(
      new RegExp(`^pull ${tlsReg.host}/private/busybox:latest: ${tlsReg.host} requires a login \\(Basic\\) \\(no credentials for ${tlsReg.host} in .*/run/containers/auth.json, .*\\)$`));
  });

  it('credentials from $XDG_RUNTIME_DIR/containers/auth.json: pulled', async () => {
    const env = envWith('creds', { registries: trusted(), auth: { user: USER, password: PASSWORD, host: tlsReg.host, where: 'runtime' } });
    const rec = await pullImage(`${tlsReg.host}/private/busybox`, { store: `${work}/s-creds`, env });
    expect(rec.names).toEqual([`${tlsReg.host}/private/busybox:latest`]);
  });

  it('credentials from ~/.docker/config.json (an https://HOST/v1/ key): pulled', async () => {
    const env = envWith('docker-creds', { registries: trusted(), auth: { user: USER, password: PASSWORD, host: tlsReg.host, where: 'docker' } });
    const rec = await pullImage(`${tlsReg.host}/private/busybox`, { store: `${work}/s-docker-creds`, env });
    expect(rec.layers).toHaveLength(2);
  });

  it('a wrong password: refused, naming the file, never the password', async () => {
    const env = envWith('badcreds', { registries: trusted(), auth: { user: USER, password: 'wrong', host: tlsReg.host, where: 'runtime' } });
    const debug: string[] = [];
    const err = await pullImage(`${tlsReg.host}/private/busybox`, { store: `${work}/s-bad`, env, debug: (l) => debug.push(l) }).catch((e: Error) => e);
    expect((err as Error).message).toBe(`pull ${tlsReg.host}/private/busybox:latest: authentication refused by ${tlsReg.host} with the credentials from ${env.XDG_RUNTIME_DIR}/containers/auth.json`);
    expect(debug.join('\n')).toContain(`GET https://${tlsReg.host}/v2/private/busybox/manifests/latest → 401`);
    expect(JSON.stringify({ m: (err as Error).message, debug })).not.toMatch(/wrong|d3Jvbmc|dGVzdGVyOndyb25n/);
  });

  it('marked insecure in registries.json: the certificate is not checked', async () => {
    const env = envWith('insecure', { registries: { registries: [{ location: tlsReg.host, insecure: true }] }, auth: { user: USER, password: PASSWORD, host: tlsReg.host, where: 'runtime' } });
    const rec = await pullImage(`${tlsReg.host}/private/busybox`, { store: `${work}/s-insecure`, env });
    expect(rec.layers).toHaveLength(2);
  });

  it('the CLI: --debug shows requests, never the password', () => {
    const env = envWith('cli', { registries: trusted(), auth: { user: USER, password: PASSWORD, host: tlsReg.host, where: 'runtime' } });
    const out = execFileSync(`${REPO}bin/tsrun`, ['--debug', 'image', 'pull', '--store', `${work}/s-cli`, `${tlsReg.host}/private/busybox`], {
      env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toContain(`${tlsReg.host}/private/busybox:latest`);
    const both = execFileSync('sh', ['-c', `"$0" --debug image pull --store "$1" "$2" 2>&1`, `${REPO}bin/tsrun`, `${work}/s-cli2`, `${tlsReg.host}/private/busybox`], {
      env: { ...process.env, ...env }, encoding: 'utf8',
    });
    expect(both).toContain('→ 401');
    expect(both).not.toContain(PASSWORD);
    expect(both).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
  });
});

describe('token auth (Bearer)', () => {
  it('anonymous: a public repository is pulled with a token asked for without credentials', async () => {
    tokens.requests.length = 0;
    const rec = await pullImage(`${tokenReg.host}/public/busybox`, { store: `${work}/t-anon`, env: envWith('t-anon', {}) });
    expect(rec.layers).toHaveLength(2);
    expect(tokens.requests).toEqual([{ scope: 'repository:public/busybox:pull', authorized: false }]);
  });

  it('a private repository without credentials: refused', async () => {
    await expect(pullImage(`${tokenReg.host}/private/busybox`, { store: `${work}/t-none`, env: envWith('t-none', {}) })).rejects.toThrow(
      new RegExp(`^pull ${tokenReg.host}/private/busybox:latest: authentication refused by ${tokenReg.host} \\(no credentials for ${tokenReg.host} in `));
  });

  it('with credentials from auth.json: the token server gets them, the pull succeeds', async () => {
    tokens.requests.length = 0;
    const env = envWith('t-creds', { auth: { user: USER, password: PASSWORD, host: tokenReg.host, where: 'runtime' } });
    const rec = await pullImage(`${tokenReg.host}/private/busybox`, { store: `${work}/t-creds`, env });
    expect(rec.layers).toHaveLength(2);
    expect(tokens.requests).toEqual([{ scope: 'repository:private/busybox:pull', authorized: true }]);
  });

  it('wrong credentials: the token server refuses, and the error says so', async () => {
    const env = envWith('t-bad', { auth: { user: USER, password: 'nope', host: tokenReg.host, where: 'runtime' } });
    await expect(pullImage(`${tokenReg.host}/private/busybox`, { store: `${work}/t-bad`, env })).rejects.toThrow(
      `pull ${tokenReg.host}/private/busybox:latest: authentication refused by ${tokens.realm.slice(7, tokens.realm.indexOf('/', 7))} (token for ${tokenReg.host}) with the credentials from ${env.XDG_RUNTIME_DIR}/containers/auth.json`);
  });
});
