// HTTP(S) requests to registries with Node's own http/https (no client library: the distribution
// API needs GET, a few headers, Range and streaming bodies). Connections are kept alive per
// endpoint, so a pull's manifest, config and layers share a few sockets. TLS trusts the system's
// CAs plus, per registry, the `ca` file of registries.json and the *.crt files in
// /etc/containers/certs.d/HOST/ and /etc/docker/certs.d/HOST/ (where podman and docker users put
// them). bin/tsrun drops NODE_EXTRA_CA_CERTS (it costs every start ~37 ms), so these are the ways.
import { readdirSync, readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { TsrunError } from '../../errors.js';

export interface TlsSettings {
  /** Extra CA files (PEM) to trust. */
  caFiles: string[];
  /** Do not verify certificates (an insecure registry). */
  insecure: boolean;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  tls: TlsSettings;
  /** Idle time after which the request fails (and a blob read resumes). */
  idleTimeoutMs?: number;
}

/** Directories where podman and docker look for a registry's CA certificates. */
export const CERTS_DIRS = ['/etc/containers/certs.d', '/etc/docker/certs.d'];

/** CA files for `host[:port]`: the configured one plus certs.d's *.crt. */
export function caFilesFor(host: string, configured: string | undefined): string[] {
  const files = configured ? [configured] : [];
  for (const dir of CERTS_DIRS) {
    try {
      for (const n of readdirSync(`${dir}/${host}`)) if (n.endsWith('.crt')) files.push(`${dir}/${host}/${n}`);
    } catch { /* none */ }
  }
  return files;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export class Transport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private readonly httpsAgents = new Map<string, https.Agent>();

  /** `debug` gets one line per request: method, URL without its query, status. Never headers. */
  constructor(private readonly debug?: (line: string) => void) {}

  private httpsAgent(tls: TlsSettings): https.Agent {
    const key = JSON.stringify(tls);
    let agent = this.httpsAgents.get(key);
    if (!agent) {
      const extra = tls.caFiles.map((f) => {
        try { return readFileSync(f, 'utf8'); } catch (e) {
          throw new TsrunError(`cannot read the CA file ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file: f });
        }
      });
      agent = new https.Agent({
        keepAlive: true, maxSockets: 8, rejectUnauthorized: !tls.insecure,
        ...(extra.length ? { ca: [...rootCertificates, ...extra] } : {}),
      });
      this.httpsAgents.set(key, agent);
    }
    return agent;
  }

  /** Sends a GET and resolves with the response (any status); rejects on a network or TLS error. */
  get(url: URL, opts: RequestOptions): Promise<IncomingMessage> {
    const isHttps = url.protocol === 'https:';
    const lib = isHttps ? https : http;
    const agent = isHttps ? this.httpsAgent(opts.tls) : this.httpAgent;
    const shown = `${url.origin}${url.pathname}`;
    return new Promise((resolve, reject) => {
      const req = lib.get(url, { agent, headers: { 'user-agent': 'tsrun', ...opts.headers } }, (res) => {
        this.debug?.(`GET ${shown} → ${res.statusCode}`);
        resolve(res);
      });
      req.setTimeout(opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, () => {
        req.destroy(Object.assign(new Error(`no data for ${(opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS) / 1000} s`), { code: 'ETIMEDOUT' }));
      });
      req.on('error', (e) => { this.debug?.(`GET ${shown} → ${(e as NodeJS.ErrnoException).code ?? e.message}`); reject(e); });
    });
  }

  /** Closes kept-alive sockets, so the process can exit. */
  close(): void {
    this.httpAgent.destroy();
    for (const a of this.httpsAgents.values()) a.destroy();
    this.httpsAgents.clear();
  }
}

/** Reads a whole (small) response body, refusing more than `limit` bytes. */
export async function readBody(res: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.destroy();
    throw new TsrunError(`${what}: ${declared} bytes, more than the ${limit} accepted`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    n += (c as Buffer).length;
    if (n > limit) { res.destroy(); throw new TsrunError(`${what}: more than the ${limit} bytes accepted`); }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
