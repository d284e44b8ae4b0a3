// The way every operation reaches an existing container: lock it (if the operation changes it: see
// lifecycle.ts), load its record, derive its status from the kernel, check the lifecycle table, and
// run the operation with what it found. One place, so no operation checks a status its own way or
// forgets the lock (youki's can_start/can_kill…, runc's container mutex, as one table and one lock).
import { LIFECYCLE, checkLifecycle, type Operation } from './lifecycle.js';
import { StateStore, type ContainerRecord } from './store.js';
import { containerStatus, type Status } from './status.js';

export interface ContainerAt {
  store: StateStore;
  record: ContainerRecord;
  /** As the kernel says now (under the lock, for an operation that takes it). */
  status: Status;
}

export interface WithContainerOptions<T> {
  /**
   * The container's directory exists without a record (a create killed before its first record, or
   * a concurrent delete midway): what to do instead of failing with "does not exist". Run under the
   * lock. Only `delete --force` removes such a directory.
   */
  unrecorded?: (store: StateStore) => Promise<T> | T;
}

export async function withContainer<T>(root: string, id: string, op: Operation, fn: (c: ContainerAt) => Promise<T> | T, opts: WithContainerOptions<T> = {}): Promise<T> {
  const store = new StateStore(root);
  const run = async (): Promise<T> => {
    if (opts.unrecorded && !store.exists(id)) return opts.unrecorded(store);
    const record = store.read(id);
    const status = containerStatus(record, store.dir(id));
    checkLifecycle(op, status, id);
    return fn({ store, record, status });
  };
  return LIFECYCLE[op].locks ? store.withLock(id, run) : run();
}
