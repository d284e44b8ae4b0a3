// `tsrun state` and `tsrun list`: the runtime-spec state object, with the status read from the kernel.
import type { State } from '../oci/types.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import { containerStatus, type Status } from '../state/status.js';

export interface ContainerState extends Omit<State, 'status'> {
  status: Status;
  rootfs: string;
  created: string;
  owner: string;
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
    owner: record.owner,
    annotations: record.annotations ?? {},
  };
}

export function containerState(root: string, id: string): ContainerState {
  const store = new StateStore(root);
  return stateOf(store, store.read(id));
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
