// One repository on one registry endpoint, spoken to with the OCI distribution API: manifests and
// blobs by GET, authentication when the registry asks for it (401 + WWW-Authenticate), redirects
// followed (blob stores hand out CDN URLs), and the scheme found once: HTTPS, or plain HTTP where
// that is allowed (loopback, or an insecure registry) and the registry does not speak TLS.
import type { IncomingMessage } from 'node:http';
import { sha256 } from '../digest.js';
import { MAX_JSON_BLOB } from '../source.js';
import { parseChallenges } from './challenge.js';
import type { Credentials } from './credentials.js';
import { describeNetworkError, isNotTls, RegistryError } from './errors.js';
import { isLoopback } from './reference.js';
import { readBody, type TlsSettings, type Transport } from './transport.js';

export interface EndpointSpec {
  /** `host[:port]` to connect to. */
  host: string;
  repository: string;
  insecure: boolean;
  caFiles: string[];
  credentials?: Credentials;
  /** Where credentials were looked for (for messages). */
  authFiles: string[];
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The distribution API's error body: `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]}`. */
export function errorCodes(body: Buffer): { codes: string[]; text: string } {
  try {
    const errors = (JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] }).errors ?? [];
    return { codes: errors.map((e) => e.code ?? ''), text: errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ') };
  } catch {
    return { codes: [], text: body.toString('utf8').slice(0, 200).replace(/\s+/g, ' ').trim() };
  }
}

export class RegistryClient {
  private scheme: 'https' | 'http' | undefined;
  private authorization: string | undefined;

  constructor(readonly ep: EndpointSpec, private readonly transport: Transport) {}

  /** Plain HTTP may be used: the registry is on this machine, or configured as insecure. */
  get plainHttpAllowed(): boolean { return this.ep.insecure || isLoopback(this.ep.host); }

  private get tls(): TlsSettings { return { caFiles: this.ep.caFiles, insecure: this.ep.insecure }; }

  private url(path: string): URL { return new URL(`${this.scheme ?? 'https'}://${this.ep.host}${path}`); }

  /** One GET on the endpoint; the first one decides between HTTPS and plain HTTP. */
  private async send(path: string, headers: Record<string, string>): Promise<{ res: IncomingMessage; url: URL }> {
    const h = { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) };
    try {
      const url = this.url(path);
      const res = await this.transport.get(url, { headers: h, tls: this.tls });
      this.scheme ??= 'https';
      return { res, url };
    } catch (e) {
      if (this.scheme === undefined && this.plainHttpAllowed && isNotTls(e)) {
        this.scheme = 'http';
        return this.send(path, headers);
      }
      throw describeNetworkError(e, this.ep.host);
    }
  }

  /** GET with authentication on 401 (once per challenge) and redirects; resolves with a non-401, non-3xx response. */
  async get(path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    let { res, url } = await this.send(path, headers);
    if (res.statusCode === 401) {
      const challenge = res.headers['www-authenticate'];
      res.resume();
      await this.authenticate(typeof challenge === 'string' ? challenge : '');
      ({ res, url } = await this.send(path, headers));
      if (res.statusCode === 401) {
        res.resume();
        throw new RegistryError('auth', `authentication refused by ${this.ep.host}${this.credentialNote()}`);
      }
    }
    for (let hops = 0; REDIRECTS.has(res.statusCode ?? 0); hops++) {
      const location = res.headers.location;
      res.resume();
      if (hops >= 5 || !location) throw new RegistryError('protocol', `${this.ep.host}: ${location ? 'too many redirects' : 'a redirect without a Location'} for ${path}`);
      const next = new URL(location, url);
      if (next.protocol === 'http:' && url.protocol === 'https:' && !this.plainHttpAllowed) {
        throw new RegistryError('protocol', `${this.ep.host}: refusing a redirect from HTTPS to plain HTTP (${next.origin})`);
      }
      // Credentials go only to the registry itself, never to the blob store it redirects to.
      const sameOrigin = next.origin === url.origin;
      try {
        res = await this.transport.get(next, { headers: { ...headers, ...(sameOrigin && this.authorization ? { authorization: this.authorization } : {}) }, tls: this.tls });
      } catch (e) {
        throw describeNetworkError(e, next.host);
      }
      url = next;
    }
    return res;
  }

  private credentialNote(): string {
    const c = this.ep.credentials;
    return c ? ` with the credentials from ${c.from}` : ` (no credentials for ${this.ep.host} in ${this.ep.authFiles.join(', ')})`;
  }

  private basic(c: Credentials): string {
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  /** Answers a challenge: a bearer token from the realm (anonymous or with credentials), or Basic. */
  private async authenticate(header: string): Promise<void> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const creds = this.ep.credentials;
    if (bearer) {
      this.authorization = `Bearer ${await this.token(bearer.params)}`;
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!creds) throw new RegistryError('auth', `${this.ep.host} requires a login (Basic)${this.credentialNote()}`);
      if (this.scheme === 'http' && !this.plainHttpAllowed) throw new RegistryError('auth', `${this.ep.host}: refusing to send credentials over plain HTTP`);
      this.authorization = this.basic(creds);
      return;
    }
    throw new RegistryError('auth', `${this.ep.host} refused access without an authentication challenge tsrun knows (${challenges.map((c) => c.scheme).join(', ') || 'none'})`);
  }

  /** A token from the challenge's realm, for pulling this repository. */
  private async token(params: Record<string, string>): Promise<string> {
    let realm: URL;
    try { realm = new URL(params.realm ?? ''); } catch { throw new RegistryError('auth', `${this.ep.host}: a Bearer challenge without a usable realm`); }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new RegistryError('auth', `${this.ep.host}: token realm ${realm.origin} is not HTTP(S)`);
    if (params.service) realm.searchParams.set('service', params.service);
    const scopes = new Set([`repository:${this.ep.repository}:pull`, ...(params.scope ? params.scope.split(' ') : [])]);
    for (const s of scopes) realm.searchParams.append('scope', s);
    const creds = this.ep.credentials;
    const plainOk = realm.protocol === 'https:' || this.plainHttpAllowed || isLoopback(realm.host);
    if (creds && !plainOk) throw new RegistryError('auth', `${this.ep.host}: refusing to send credentials to the plain-HTTP token realm ${realm.origin}`);
    let res: IncomingMessage;
    try {
      res = await this.transport.get(realm, { headers: creds ? { authorization: this.basic(creds) } : {}, tls: this.tls });
    } catch (e) {
      throw describeNetworkError(e, realm.host);
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      res.resume();
      throw new RegistryError('auth', `authentication refused by ${realm.host} (token for ${this.ep.host})${this.credentialNote()}`);
    }
    const body = await readBody(res, 1 << 20, `token from ${realm.host}`);
    if (res.statusCode !== 200) throw new RegistryError('auth', `token from ${realm.host}: HTTP ${res.statusCode} ${errorCodes(body).text}`);
    let token: unknown;
    try {
      const j = JSON.parse(body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = j.token ?? j.access_token;
    } catch { /* below */ }
    if (typeof token !== 'string' || token === '') throw new RegistryError('auth', `token from ${realm.host}: no token in the answer`);
    return token;
  }

  /** An error for a response that is not the one asked for. */
  async failure(res: IncomingMessage, what: string): Promise<RegistryError> {
    let body: Buffer = Buffer.alloc(0);
    try { body = await readBody(res, 64 << 10, what); } catch { /* the status says enough */ }
    const { codes, text } = errorCodes(body);
    const status = res.statusCode ?? 0;
    const detail = `HTTP ${status}${text ? ` ${text}` : ''}`;
    if (status === 404 || codes.some((c) => /UNKNOWN$/.test(c))) return Object.assign(new RegistryError('not-found', `${what}: ${detail}`), { codes });
    if (status === 401 || status === 403 || codes.includes('DENIED') || codes.includes('UNAUTHORIZED')) {
      return new RegistryError('auth', `${what}: access denied by ${this.ep.host} (${detail})${this.credentialNote()}`);
    }
    return new RegistryError('protocol', `${what}: ${detail} from ${this.ep.host}`);
  }

  /** GET a manifest or index by tag or digest; checks it against the digest asked for (or the one the registry states). */
  async manifest(reference: string): Promise<FetchedManifest> {
    const what = `manifest ${reference}`;
    const res = await this.get(`/v2/${this.ep.repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT });
    if (res.statusCode !== 200) throw await this.failure(res, what);
    const bytes = await readBody(res, MAX_JSON_BLOB, what);
    const digest = sha256(bytes);
    const expected = reference.startsWith('sha256:') ? reference : res.headers['docker-content-digest'];
    if (typeof expected === 'string' && expected.startsWith('sha256:') && expected !== digest) {
      throw new RegistryError('integrity', `${what}: digest mismatch (${this.ep.host} sent content ${digest}, expected ${expected})`);
    }
    let mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
    try {
      const declared = (JSON.parse(bytes.toString('utf8')) as { mediaType?: unknown }).mediaType;
      if (typeof declared === 'string' && declared) mediaType = declared;
    } catch {
      throw new RegistryError('protocol', `${what}: not valid JSON`);
    }
    return { bytes, mediaType, digest };
  }

  /** True when the repository exists (its tag list answers): tells an unknown image from an unknown tag. */
  async tags(): Promise<string[] | undefined> {
    const res = await this.get(`/v2/${this.ep.repository}/tags/list?n=20`);
    if (res.statusCode !== 200) { res.resume(); return undefined; }
    try {
      const j = JSON.parse((await readBody(res, 1 << 20, 'tag list')).toString('utf8')) as { tags?: unknown };
      return Array.isArray(j.tags) ? j.tags.filter((t): t is string => typeof t === 'string') : [];
    } catch {
      return [];
    }
  }

  /** A blob's bytes from `offset` on: a 200 (whole) or 206 (from offset) response, else an error. */
  async blob(digest: string, offset = 0): Promise<IncomingMessage> {
    const res = await this.get(`/v2/${this.ep.repository}/blobs/${digest}`, offset > 0 ? { range: `bytes=${offset}-` } : {});
    if (res.statusCode === 200 || res.statusCode === 206) return res;
    if (res.statusCode === 416) {
      res.resume();
      throw new RegistryError('integrity', `blob ${digest}: truncated: ${this.ep.host} has no bytes past ${offset}`);
    }
    throw await this.failure(res, `blob ${digest}`);
  }

  /** A small blob (an image config) read whole and checked against its digest and size. */
  async smallBlob(digest: string, size: number): Promise<Buffer> {
    if (!(size >= 0 && size <= MAX_JSON_BLOB)) throw new RegistryError('protocol', `blob ${digest}: implausible size ${size} for a config`);
    const bytes = await readBody(await this.blob(digest), size, `blob ${digest}`).catch((e: unknown) => {
      throw e instanceof RegistryError ? e : new RegistryError('integrity', (e as Error).message);
    });
    if (bytes.length !== size) throw new RegistryError('integrity', `blob ${digest}: ${bytes.length} bytes, expected ${size}`);
    if (sha256(bytes) !== digest) throw new RegistryError('integrity', `blob ${digest}: digest mismatch (content is ${sha256(bytes)})`);
    return bytes;
  }
}

