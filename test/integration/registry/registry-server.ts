// A real registry for the pull tests: Debian's docker-registry (the CNCF distribution server),
// started on 127.0.0.1 (a free port the kernel picks: `addr: 127.0.0.1:0`, read back with ss) with a
// temp config and storage dir, optionally with htpasswd auth and a self-signed TLS certificate made
// here with openssl. Filled with `skopeo copy`; stopped by its pid.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createSign, randomUUID, X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';

export interface RegistryOptions {
  /** htpasswd auth with this user and password. */
  basicAuth?: { user: string; password: string };
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (caFile: the certificate to trust). */
  tls?: boolean;
  /** Token auth (WWW-Authenticate: Bearer) against a token server (startTokenServer). */
  token?: TokenServer;
  /** `user:password` skopeo pushes with (token auth). */
  pushCreds?: string;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** The certificate whose key signs the tokens (the registry's rootcertbundle). */
  certFile: string;
  /** Requests seen: whether each came with credentials. */
  requests: { scope: string; authorized: boolean }[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/**
 * A token server as the distribution spec describes one: GET realm?service=…&scope=… answers a JWT
 * (RS256, the signing certificate in its x5c header) granting pull on the scope's repository.
 * Pulls from repositories under `public/` are granted to anyone; anything else only with Basic `user:password`.
 */
export async function startTokenServer(dir: string, user: string, password: string): Promise<TokenServer> {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/token-key.pem`, '-out', `${dir}/token-cert.pem`,
    '-days', '2', '-subj', '/CN=tsrun-test-token'], { stdio: 'pipe' });
  const key = createPrivateKey(readFileSync(`${dir}/token-key.pem`));
  const der = new X509Certificate(readFileSync(`${dir}/token-cert.pem`)).raw;
  const service = 'tsrun-test-registry';
  const issuer = 'tsrun-test-issuer';
  const requests: TokenServer['requests'] = [];
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scope = url.searchParams.getAll('scope').join(' ');
    const authorized = req.headers.authorization === expected;
    requests.push({ scope, authorized });
    if (req.headers.authorization !== undefined && !authorized) { res.writeHead(401).end('{"details":"bad credentials"}'); return; }
    const access = url.searchParams.getAll('scope').flatMap((sc) => {
      const [type, name, actions] = sc.split(':');
      if (type !== 'repository' || !name) return [];
      if (!name.startsWith('public/') && !authorized) return [];
      return [{ type, name, actions: (actions ?? '').split(',').filter((a) => authorized || a === 'pull') }];
    });
    const now = Math.floor(Date.now() / 1000);
    const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] }));
    const body = b64url(JSON.stringify({ iss: issuer, sub: authorized ? user : '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
    const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${head}.${body}.${b64url(sig)}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile: `${dir}/token-cert.pem`, requests,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT`. */
  host: string;
  port: number;
  pid: number;
  dir: string;
  /** The registry's storage root (`docker/registry/v2/…` below it). */
  storage: string;
  caFile?: string;
  /** The file a blob's bytes are stored in. */
  blobFile(digest: string): string;
  /**
   * `skopeo copy` of `source` (an `oci:DIR:TAG` style transport reference) to `name` in this registry.
   * Asynchronous: a token server in this process must be able to answer skopeo meanwhile.
   */
  push(source: string, name: string, extra?: string[]): Promise<void>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

function listeningPort(pid: number): number | undefined {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const m = /127\.0\.0\.1:(\d+)\s/.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
}

export async function startRegistry(o: RegistryOptions = {}): Promise<RunningRegistry> {
  const dir = mkdtempSync(`${tmpdir()}/tsrun-registry-`);
  const storage = `${dir}/storage`;
  mkdirSync(storage);
  const lines = [
    'version: 0.1',
    'log:', '  level: warn', '  accesslog:', '    disabled: true',
    'storage:', '  filesystem:', `    rootdirectory: ${storage}`, '  delete:', '    enabled: true',
    'http:', '  addr: 127.0.0.1:0', '  secret: tsrun-test-secret',
  ];
  let caFile: string | undefined;
  if (o.tls) {
    caFile = `${dir}/cert.pem`;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', caFile, '-days', '2',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
    lines.push('  tls:', `    certificate: ${caFile}`, `    key: ${dir}/key.pem`);
  }
  if (o.basicAuth) {
    const hash = execFileSync('htpasswd', ['-Bbn', o.basicAuth.user, o.basicAuth.password], { encoding: 'utf8' });
    writeFileSync(`${dir}/htpasswd`, hash);
    lines.push('auth:', '  htpasswd:', '    realm: tsrun-test', `    path: ${dir}/htpasswd`);
  }
  if (o.token) {
    lines.push('auth:', '  token:', `    realm: ${o.token.realm}`, `    service: ${o.token.service}`, `    issuer: ${o.token.issuer}`,
      `    rootcertbundle: ${o.token.certFile}`);
  }
  writeFileSync(`${dir}/config.yml`, lines.join('\n') + '\n');
  const child: ChildProcess = spawn('docker-registry', ['serve', `${dir}/config.yml`], { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
  const pid = child.pid!;
  let port: number | undefined;
  for (let i = 0; i < 200 && port === undefined; i++) {
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
    port = listeningPort(pid);
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (port === undefined) {
    await stop();
    throw new Error(`docker-registry did not start listening: ${log}`);
  }
  const host = `127.0.0.1:${port}`;
  const creds = o.basicAuth ? ['--dest-creds', `${o.basicAuth.user}:${o.basicAuth.password}`] : o.pushCreds ? ['--dest-creds', o.pushCreds] : [];
  const tlsArgs = o.tls ? ['--dest-cert-dir', `${dir}/skopeo-certs`] : ['--dest-tls-verify=false'];
  if (o.tls) { mkdirSync(`${dir}/skopeo-certs`); writeFileSync(`${dir}/skopeo-certs/ca.crt`, readFileSync(caFile!)); }
  return {
    host, port, pid, dir, storage, ...(caFile ? { caFile } : {}),
    blobFile: (digest) => {
      const hex = digest.replace(/^sha256:/, '');
      const f = `${storage}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`;
      if (!existsSync(f)) throw new Error(`no blob ${digest} in the registry storage`);
      return f;
    },
    push: async (source, name, extra = []) => {
      await run('skopeo', ['copy', '--quiet', ...creds, ...tlsArgs, ...extra, source, `docker://${host}/${name}`], { timeout: 60_000 });
    },
    stop,
  };
}
