// Image names as podman and docker read them, so that `--image myapp:1.0` finds an image recorded
// as docker.io/library/myapp:1.0 (and the other way round). A name without a registry is on
// docker.io, a one-component one under library/, and its tag is latest unless a tag or a digest is
// given. The grammar is the distribution project's reference grammar, reduced to what names need.

/** A path component: lower-case letters and digits, separated by `.`, `_`, `__` or dashes. */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
/** A registry host, with an optional port. */
const DOMAIN = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}$/;

/**
 * The full name podman and docker mean by `name` (`busybox` → `docker.io/library/busybox:latest`,
 * `user/app:2` → `docker.io/user/app:2`, `busybox@sha256:…` keeps its digest and gets no tag), or
 * undefined when `name` is not an image name at all (a path, an id `sha256:…`, upper case).
 */
export function normalizeImageName(name: string): string | undefined {
  if (name.startsWith('sha256:')) return undefined;
  let rest = name;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  // The first component names a registry when it looks like a host: a dot, a port, localhost
  // or upper case (docker's rule); otherwise it is part of a docker.io path (`user/app`).
  let domain = 'docker.io';
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase()) {
      if (!DOMAIN.test(first)) return undefined;
      domain = first === 'index.docker.io' ? 'docker.io' : first;
      path = rest.slice(slash + 1);
    }
  }
  if (!path.split('/').every((c) => COMPONENT.test(c))) return undefined;
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return `${domain}/${path}${tag !== undefined ? `:${tag}` : digest ? '' : ':latest'}${digest ? `@${digest}` : ''}`;
}
