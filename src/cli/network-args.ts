// --network and -p of run and create, parsed once for both (src/network/options.ts does the work).
import type { NetworkRequest } from '../network/phase.js';

export async function networkRequest(network: string | undefined, publish: readonly string[] | undefined): Promise<NetworkRequest | undefined> {
  if (network === undefined && !publish?.length) return undefined;
  const { parseNetworkMode, parsePortMapping } = await import('../network/options.js');
  // -p alone means a bridge, as with podman's default network.
  const mode = parseNetworkMode(network ?? 'bridge');
  return { mode, ports: (publish ?? []).map(parsePortMapping) };
}
