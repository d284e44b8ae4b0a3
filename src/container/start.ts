// `tsrun start`: release a created container. Its init blocks reading the exec fifo; one byte lets it
// exec the user process. Opening the fifo without blocking fails with ENXIO when no process holds it
// open any more, which means the init died.
import { closeSync, constants, openSync, rmSync, writeSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { State } from '../oci/types.js';
import type { StateStore, ContainerRecord } from '../state/store.js';
import { withContainer } from '../state/with-container.js';
import { killEverything, removeContainer } from './delete.js';
import { runHooks, runHooksWarning } from './hooks.js';

export function releaseInit(store: StateStore, record: ContainerRecord): void {
  const fifo = store.fifoPath(record.id);
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TsrunError(`cannot start container ${record.id}: its init is not running (${code} opening ${fifo})`, { file: fifo, ...(code ? { errno: code } : {}) });
  }
  try {
    writeSync(fd, Buffer.from([1]));
  } finally {
    closeSync(fd);
  }
  rmSync(fifo, { force: true });
  store.write({ ...record, started: true });
}

/**
 * The state a start hook reads on stdin. The pid is the recorded one: the runtime-spec requires it
 * while the status is created or running, and a short-lived process (/bin/true) has often exited by
 * the time poststart runs, when `stateOf` (what `tsrun state` prints) would already say pid 0.
 */
export function startHookState(record: ContainerRecord, status: 'created' | 'running'): State {
  return { ociVersion: record.ociVersion, id: record.id, status, pid: record.pid, bundle: record.bundle, annotations: record.annotations ?? {} };
}

/**
 * The start sequence shared by `start` and `run`: startContainer hooks inside the container (a
 * failure destroys the container, leaving nothing behind), release the init (through the exec fifo,
 * or `goAhead` when the caller holds the init's sync socket), poststart hooks.
 */
export async function startCreated(store: StateStore, record: ContainerRecord, warn: (m: string) => void, goAhead?: () => void): Promise<void> {
  if (record.config.hooks?.startContainer?.length) {
    try {
      await runHooks('startContainer', record.config, startHookState(record, 'created'), store.dir(record.id), record.cgroupDir);
    } catch (err) {
      await killEverything(record);
      await removeContainer(store, record, warn);
      throw err;
    }
  }
  if (goAhead) {
    // `run` created the init with a 'caller' start gate: one byte on the sync socket it still holds.
    goAhead();
    store.write({ ...record, started: true });
  } else {
    releaseInit(store, record);
  }
  if (record.config.hooks?.poststart?.length) {
    await runHooksWarning('poststart', record.config, startHookState(record, 'running'), warn);
  }
}

export async function startContainer(root: string, id: string, warn: (m: string) => void = () => {}): Promise<void> {
  await withContainer(root, id, 'start', ({ store, record }) => startCreated(store, record, warn));
}
