// --network and -p of run, create and explain, parsed once for all (src/network/container-network.ts
// does the work, the same the library's spec goes through).
import type { NetworkRequest } from '../network/phase.js';

export async function networkRequest(network: string | undefined, publish: readonly string[] | undefined): Promise<NetworkRequest | undefined> {
  if (network === undefined && !publish?.length) return undefined;
  const { networkRequestOf } = await import('../network/container-network.js');
  return networkRequestOf({ ...(network !== undefined ? { network } : {}), ...(publish ? { ports: publish } : {}) });
}
