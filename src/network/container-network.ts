// The network side of a container as the library (issue 15) hands it to its users: what its spec's
// `network` and `ports` become, and for a created container its address (`Container.ip`),
// `connect(ctrPort)` and `forwardPort(ctrPort)`. Everything is found from the state root and the id,
// so the library's Container needs no more than those.
import type { Socket } from 'node:net';
import { TsrunError } from '../errors.js';
import { StateStore } from '../state/store.js';
import { connectInContainer, forwardPort, type ConnectOptions, type ForwardedPort, type NetnsTarget } from './connect.js';
import { networkRequestOf, type PortMapping } from './options.js';
import { readNetworkRecord, summarize, type NetworkSummary } from './record.js';
import { checkNetwork } from './attach.js';
import { withContainer } from '../state/with-container.js';
import { noTrace, type TraceSink } from '../process/trace.js';

/** The library spec's fields: `network: 'bridge'`, `ports: ['8080:80', { hostPort, containerPort, protocol }]`. */
export interface NetworkSpec {
  /** none, host, bridge, bridge:NAME, slirp4netns or ns:/PATH, as `run --network`. */
  network?: string;
  /** Published through the CNI portmap plugin (or slirp4netns's add_hostfwd); as `run -p`, or already parsed. */
  ports?: readonly (string | PortMapping)[];
}

export { networkRequestOf };

export interface ContainerNetwork {
  /** Its IPv4 (or first) address on its CNI network, without the prefix length; undefined without one. */
  ip: string | undefined;
  /** Interface, addresses, routes, published ports (as `tsrun state` shows). */
  cni: NetworkSummary | undefined;
  /** A socket connected to ctrPort inside the container's network namespace (its 127.0.0.1 by default). */
  connect(ctrPort: number, opts?: ConnectOptions): Promise<Socket>;
  /** A port on the host's 127.0.0.1 spliced to ctrPort inside the container; no firewall rule. */
  forwardPort(ctrPort: number, opts?: ConnectOptions & { hostPort?: number; onError?: (err: Error) => void }): Promise<ForwardedPort>;
}

/** The network of container `id` under state root `root`, read once: its init is checked again at each connect. */
export function containerNetwork(root: string, id: string): ContainerNetwork {
  const store = new StateStore(root);
  const record = store.read(id);
  if (!record.pid) throw new TsrunError(`container ${id} has no process yet: its network namespace cannot be reached`);
  // By pid and start time: a reused pid is refused, and the namespace is the init's whatever the mode.
  const target: NetnsTarget = { pid: record.pid, startTime: record.pidStartTime };
  const net = readNetworkRecord(store.dir(id));
  const cni = net ? summarize(net) : undefined;
  const first = cni?.ips.find((ip) => !ip.address.includes(':')) ?? cni?.ips[0];
  return {
    ip: first?.address.split('/')[0],
    cni,
    connect: (ctrPort, opts) => connectInContainer(target, ctrPort, opts),
    forwardPort: (ctrPort, opts) => forwardPort(target, ctrPort, opts),
  };
}

/**
 * CNI CHECK of container `id`'s network (`tsrun network check ID`): 'checked' when every plugin found
 * what it made, 'skipped' when the list has no CHECK; a plugin that finds something missing is thrown.
 */
export function checkContainerNetwork(root: string, id: string, trace: TraceSink = noTrace): Promise<'checked' | 'skipped'> {
  return withContainer(root, id, 'state', ({ store }) => checkNetwork(store.dir(id), { trace }));
}
