// --network and -p of run, create and explain, parsed once for all (src/network/options.ts does the
// work, the same the library's spec goes through). Run and create on a CNI network go to the full
// bundle (their needsFullBundle): the startup snapshot holds no CNI code.
import type { NetworkRequest } from '../network/options.js';

export async function networkRequest(network: string | undefined, publish: readonly string[] | undefined): Promise<NetworkRequest | undefined> {
  if (network === undefined && !publish?.length) return undefined;
  const { networkRequestOf } = await import('../network/options.js');
  return networkRequestOf({ ...(network !== undefined ? { network } : {}), ...(publish ? { ports: publish } : {}) });
}

/**
 * Whether a run or create needs the full bundle for its network: a CNI network (bridge, or -p, which
 * means one), slirp4netns, or a --dry-run that explains any --network (network/explain.ts is not in the snapshot).
 * none, host and ns:PATH only rewrite the spec, which the snapshot can do.
 */
export const asksForNetwork = (network: string | undefined, publish: readonly string[] | undefined, dryRun = false): boolean =>
  (publish?.length ?? 0) > 0 || (network !== undefined && (dryRun || network === 'bridge' || network.startsWith('bridge:') || network.startsWith('slirp4netns')));
