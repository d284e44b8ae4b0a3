// The container's /etc/resolv.conf on a CNI bridge (network/resolv-conf.ts says how it is bound in).
// The bridge routes (and masquerades) the container's traffic through the host, so the host's own
// resolvers serve it, except those on the host's loopback: 127.0.0.53 of systemd-resolved, a local
// dnsmasq. As podman and docker do: loopback resolvers are left out; if that leaves none and
// systemd-resolved runs, its upstream servers are used (/run/systemd/resolve/resolv.conf); if still
// none, Google's public resolvers, the fallback both use. IPv6 resolvers only for a network with an
// IPv6 subnet (the container has no IPv6 route otherwise, and each would cost a lookup timeout);
// a link-local one with its zone (fe80::1%eth0) names the host's link, not the container's.
import { isIP } from 'node:net';
import { lookupLines, nameserversOf } from '../resolv-conf.js';

/** Where systemd-resolved lists the servers its 127.0.0.53 stub asks. */
export const RESOLVED_UPSTREAM = '/run/systemd/resolve/resolv.conf';

/** podman's and docker's resolvers for a container when the host's are all loopback. */
export const FALLBACK_NAMESERVERS: readonly string[] = ['8.8.8.8', '8.8.4.4'];

/** Reached only from the host itself: its loopback, or (IPv6) a link of its own (fe80::/10, with a zone). */
function hostOnly(a: string): boolean {
  if (isIP(a) === 4) return a.startsWith('127.');
  if (a.includes('%')) return true;
  const canonical = new URL(`http://[${a}]/`).hostname;
  return canonical === '[::1]' || canonical.startsWith('[::ffff:7f') || /^\[fe[89ab]/.test(canonical);
}

function usable(text: string | undefined, ipv6: boolean): string[] {
  return nameserversOf(text).filter((a) => {
    const family = isIP(a);
    return family !== 0 && (family === 4 || ipv6) && !hostOnly(a);
  });
}

/**
 * The container's resolv.conf on a bridge: `host` is the host's /etc/resolv.conf, `resolved`
 * systemd-resolved's upstream file (if any), `ipv6` whether the network has an IPv6 subnet.
 */
export function bridgeResolvConf(host: string | undefined, resolved: string | undefined, ipv6: boolean): string {
  let servers = usable(host, ipv6);
  if (servers.length === 0) servers = usable(resolved, ipv6);
  if (servers.length === 0) servers = [...FALLBACK_NAMESERVERS];
  return [...servers.map((a) => `nameserver ${a}`), ...lookupLines(host)].join('\n') + '\n';
}
