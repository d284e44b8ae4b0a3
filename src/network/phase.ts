// The container's network as one phase of create, and its undo at delete: what create.ts and
// delete.ts call. `prepare` runs before anything is made (an unknown network or a bad -p is an
// error that leaves nothing); `attach` once the init exists and waits; `detach` from delete.
import type { Spec } from '../oci/types.js';
import type { TraceSink } from '../process/trace.js';
import { attachNetwork, checkNetwork, detachNetwork } from './attach.js';
import { applyNetworkMode, type NetworkRequest, type PortMapping } from './options.js';
import type { NetworkRecord } from './record.js';
import { findNetwork, type StoredNetwork } from './store.js';

export type { NetworkRequest };

export interface PreparedNetwork {
  /** The spec with its network namespace as the mode asks. */
  spec: Spec;
  /** The CNI network to attach to (bridge mode only). */
  cni?: { network: StoredNetwork; ports: PortMapping[] };
}

export function prepareNetwork(spec: Spec, req: NetworkRequest): PreparedNetwork {
  const withMode = applyNetworkMode(spec, req.mode, req.ports);
  if (req.mode.kind !== 'bridge') return { spec: withMode };
  return { spec: withMode, cni: { network: findNetwork(req.mode.network), ports: req.ports } };
}

export function attachPrepared(p: PreparedNetwork, o: { stateDir: string; containerId: string; pid: number; trace: TraceSink }): Promise<NetworkRecord | undefined> {
  if (!p.cni) return Promise.resolve(undefined);
  return attachNetwork({ ...o, network: p.cni.network, ports: p.cni.ports });
}

export { checkNetwork, detachNetwork };
