// The container's /etc/resolv.conf on a user-mode network (network/resolv-conf.ts says how it is
// bound in): slirp4netns answers DNS on 10.0.2.3 and asks the host's resolvers for it.
import { lookupLines } from '../resolv-conf.js';

/** slirp4netns's built-in DNS forwarder (libslirp's vnameserver with --configure's 10.0.2.0/24). */
export const SLIRP_DNS = '10.0.2.3';

/** slirp4netns's nameserver, then the host's `search`, `domain` and `options` lines. */
export function userModeResolvConf(hostText: string | undefined): string {
  return [`nameserver ${SLIRP_DNS}`, ...lookupLines(hostText)].join('\n') + '\n';
}
