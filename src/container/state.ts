// `tsrun state` and `tsrun list`: the runtime-spec state object, with the status read from the kernel.
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { State } from '../oci/types.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import { containerStatus, type Status } from '../state/status.js';
import { readNetworkRecord, summarize, type NetworkSummary } from '../network/record.js';
import { withContainer } from '../state/with-container.js';

export interface ContainerState extends Omit<State, 'status'> {
  status: Status;
  rootfs: string;
  created: string;
  owner: string;
  /** On a CNI network (--network bridge): its interface, addresses, routes and published ports. */
  network?: NetworkSummary;
}

/**
 * runc's "owner": the user owning the container's state dir (whoever created it), named when asked
 * rather than at create, where the passwd lookup would cost every `run` ~0.3 ms.
 */
function ownerOf(dir: string): string {
  let uid: number;
  try { uid = statSync(dir).uid; } catch { return ''; }
  if (uid === process.getuid?.()) return userInfo().username;
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    if (line) return line.split(':')[0]!;
  } catch { /* no passwd file: the number will do */ }
  return String(uid);
}

export function stateOf(store: StateStore, record: ContainerRecord): ContainerState {
  const status = containerStatus(record, store.dir(record.id));
  return {
    ociVersion: record.ociVersion,
    id: record.id,
    status,
    // runc reports pid 0 once the init is gone: the recorded pid may belong to someone else by now.
    pid: status === 'stopped' ? 0 : record.pid,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    owner: record.owner ?? ownerOf(store.dir(record.id)),
    annotations: record.annotations ?? {},
    ...networkOf(store.dir(record.id)),
  };
}

function networkOf(stateDir: string): { network?: NetworkSummary } {
  const net = readNetworkRecord(stateDir);
  return net ? { network: summarize(net) } : {};
}

export function containerState(root: string, id: string): Promise<ContainerState> {
  return withContainer(root, id, 'state', ({ store, record }) => stateOf(store, record));
}

export function listContainers(root: string): ContainerState[] {
  const store = new StateStore(root);
  return store.ids().flatMap((id) => {
    try {
      return [stateOf(store, store.read(id))];
    } catch {
      return []; // deleted while we were listing
    }
  });
}
