// `WWW-Authenticate` challenges (RFC 7235) as registries send them: `Bearer realm="…",service="…",
// scope="…"` (token auth, the distribution spec's) or `Basic realm="…"` (e.g. htpasswd).

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one header value into its challenges (scheme lower-cased, parameter names lower-cased). */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = (): void => { while (i < s.length && /[\s,]/.test(s[i]!)) i++; };
  const token = (): string => {
    const start = i;
    while (i < s.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  for (;;) {
    skipWs();
    const scheme = token();
    if (!scheme) break;
    const params: Record<string, string> = {};
    out.push({ scheme: scheme.toLowerCase(), params });
    for (;;) {
      while (i < s.length && /\s/.test(s[i]!)) i++;
      const save = i;
      const name = token();
      while (i < s.length && /\s/.test(s[i]!)) i++;
      if (!name || s[i] !== '=') { i = save; break; } // the next challenge's scheme
      i++;
      while (i < s.length && /\s/.test(s[i]!)) i++;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        value = token();
      }
      params[name.toLowerCase()] = value;
      while (i < s.length && /\s/.test(s[i]!)) i++;
      if (s[i] === ',') i++;
    }
  }
  return out;
}
