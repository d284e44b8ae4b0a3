// Where a created container's init waits for `start`, and where it pauses for the creation hooks:
// the steps of the plan that synchronise it with tsrun. Pure.
import { constants } from 'node:fs';
import type { Step } from '../abi/steps.js';
import type { ExecStep } from './plan.js';

/**
 * Where the created init waits for `start`, just before exec. `create` leaves it blocked on the exec
 * fifo (opened before pivot_root hides its path), which a later `tsrun start` writes. `run` starts
 * the container itself and still holds the sync socket, so the init waits for one byte there:
 * no fifo to make, open, write and remove (~1 ms of `run`).
 */
export type StartGate = { fifo: string } | 'caller';

/** The slot of the plan's kept fds that holds the exec fifo. */
const FIFO_SLOT = 0;

export interface StartGateSteps {
  /** First of all: open the fifo while its host path is still reachable. */
  open: Step[];
  /** After the set-up: fail at create when the program cannot be run. */
  check: Step[];
  /** Right before exec: block until started. */
  wait: Step[];
}

export function startGateSteps(gate: StartGate, exec: ExecStep): StartGateSteps {
  // A program that cannot be run is a create-time error (as runc does), not a silent stop after start.
  const check: Step[] = [{ op: 'checkExec', args: exec.args, env: exec.env, field: 'process.args', why: 'fail at create, not after start, when the program cannot be found or run' }];
  if (gate === 'caller') {
    return { open: [], check, wait: [{ op: 'waitParent', why: 'the container is created: block until tsrun has started it (startContainer hooks, state), then exec' }] };
  }
  return {
    open: [{ op: 'openKeep', path: gate.fifo, flags: constants.O_RDWR, slot: FIFO_SLOT, why: 'open the exec fifo while its host path is still reachable; `tsrun start` writes into it' }],
    check,
    wait: [{ op: 'waitRead', slot: FIFO_SLOT, why: 'the container is created: block until `tsrun start`, then exec' }],
  };
}

/** With creation hooks, the init pauses before it enters its rootfs, so they run while the host tree is visible. */
export function hookPauseSteps(): Step[] {
  return [{ op: 'waitParent', field: 'hooks', why: 'prestart, createRuntime and createContainer hooks run now: namespaces exist, pivot_root has not happened' }];
}
