// A real registry for the pull tests: Debian's docker-registry (the CNCF distribution server),
// started on 127.0.0.1 (a free port the kernel picks: `addr: 127.0.0.1:0`, read back with ss) with a
// temp config and storage dir, optionally with htpasswd auth and a self-signed TLS certificate made
// here with openssl. Filled with `skopeo copy`; stopped by its pid.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

export interface RegistryOptions {
  /** htpasswd auth with this user and password. */
  basicAuth?: { user: string; password: string };
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (caFile: the certificate to trust). */
  tls?: boolean;
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
  /** `skopeo copy` of `source` (an `oci:DIR:TAG` style transport reference) to `name` in this registry. */
  push(source: string, name: string, extra?: string[]): void;
  stop(): Promise<void>;
}

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
  const creds = o.basicAuth ? ['--dest-creds', `${o.basicAuth.user}:${o.basicAuth.password}`] : [];
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
    push: (source, name, extra = []) => {
      execFileSync('skopeo', ['copy', '--quiet', ...creds, ...tlsArgs, ...extra, source, `docker://${host}/${name}`], { stdio: 'pipe' });
    },
    stop,
  };
}
