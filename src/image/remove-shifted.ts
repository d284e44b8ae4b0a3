// Runs file-plan.ts's plans: tsrun-init, in a user namespace with the user's maps, chowns or removes
// files that the user's subordinate ids own. Node only computes the plan; no JavaScript runs there.
import { basename, dirname } from 'node:path';
import { TsrunError } from '../errors.js';
import { decodeWaitStatus } from '../native/errno.js';
import * as shim from '../native/shim.js';
import { startProcess } from '../process/parent.js';
import { removeTree } from '../state/store.js';
import { noTrace } from '../process/trace.js';
import type { Plan } from '../abi/steps.js';
import { removalPlan } from './file-plan.js';
import { storeShift, type IdShift } from './store-shift.js';

export async function runFilePlan(plan: Plan, what: string): Promise<void> {
  let pid: number;
  try {
    pid = (await startProcess(plan, { trace: noTrace, traceSteps: false })).pid;
  } catch (err) {
    throw new TsrunError(`${what}: ${(err as Error).message}`, { ...(err instanceof TsrunError ? err.details : {}), cause: err });
  }
  const { exitCode, signal } = decodeWaitStatus(await shim.waitPid(pid));
  if (exitCode !== 0) throw new TsrunError(`${what}: tsrun-init ended with ${signal ? `signal ${signal}` : `status ${exitCode}`}`);
}

/**
 * rm -rf that also removes what the user's subordinate ids made: first as the user (all it takes
 * when nothing else wrote there), then what is left in the user namespace.
 */
export async function removeShiftedTree(path: string, shift = storeShift()): Promise<void> {
  try {
    removeTree(path); // not fs.rmSync: its first call costs ~9 ms (state/store.ts)
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!shift || (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTEMPTY')) throw err;
  }
  await runFilePlan(removalPlan(dirname(path), basename(path), shift), `removing ${path} in the user namespace`);
}
