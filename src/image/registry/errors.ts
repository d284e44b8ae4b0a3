// Failures talking to a registry, by kind: the pull decides from the kind whether a mirror may be
// skipped for the next endpoint, and the message names the reference and what failed.
import { TsrunError } from '../../errors.js';

export type RegistryErrorKind = 'not-found' | 'auth' | 'tls' | 'network' | 'protocol' | 'integrity';

export class RegistryError extends TsrunError {
  override name = 'RegistryError';
  constructor(readonly kind: RegistryErrorKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? {} : { cause });
  }
}

/** Node's codes for a certificate the client does not trust (as opposed to a server that speaks no TLS). */
export function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|ISSUER/.test(code);
}

/** A TLS handshake that failed because the server does not speak TLS (plain HTTP on that port). */
export function isNotTls(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException & { reason?: string };
  return err.code === 'EPROTO' || err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|http request/i.test(String(err.message));
}

/** A one-line description of a network or TLS error, never including request headers. */
export function describeNetworkError(e: unknown, host: string): RegistryError {
  const err = e as NodeJS.ErrnoException;
  const code = err.code;
  if (isCertificateError(code)) {
    return new RegistryError('tls', `TLS: the certificate of ${host} is not trusted (${code}): add its CA as "ca" in registries.json, or mark the registry insecure there`, e);
  }
  if (code === 'ECONNREFUSED') return new RegistryError('network', `cannot connect to ${host}: connection refused`, e);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new RegistryError('network', `cannot resolve ${host} (${code})`, e);
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return new RegistryError('network', `${host}: timed out`, e);
  if (isNotTls(e)) return new RegistryError('tls', `TLS: ${host} does not speak TLS (${code ?? err.message}); a plain-HTTP registry must be on loopback or marked insecure in registries.json`, e);
  return new RegistryError('network', `${host}: ${code ? `${code} ` : ''}${err.message}`, e);
}
