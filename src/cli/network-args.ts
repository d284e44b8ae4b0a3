// --network and -p of run, create and explain, parsed once for all (src/network/options.ts does the
// work, the same the library's spec goes through). Run and create with either go to the full bundle
// (their needsFullBundle): the startup snapshot holds no CNI code.
import type { NetworkRequest } from '../network/options.js';

export async function networkRequest(network: string | undefined, publish: readonly string[] | undefined): Promise<NetworkRequest | undefined> {
  if (network === undefined && !publish?.length) return undefined;
  const { networkRequestOf } = await import('../network/options.js');
  return networkRequestOf({ ...(network !== undefined ? { network } : {}), ...(publish ? { ports: publish } : {}) });
}

/** Whether a run or create asks for a network (and so needs the full bundle). */
export const asksForNetwork = (network: string | undefined, publish: readonly string[] | undefined): boolean => network !== undefined || (publish?.length ?? 0) > 0;
