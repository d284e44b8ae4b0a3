// The one place a Plan is put together: the namespaces to create or join and the steps of each
// phase, laid out in phase order. plan/container.ts, plan/exec.ts and plan/hook.ts end here.
import type { IdMapPlan, NamespacePlan, Plan } from '../abi/steps.js';
import { aheadRange, inPhaseOrder, type PhaseSteps } from './phases.js';

export interface PlanShape {
  namespaces: NamespacePlan[];
  /** OR of the CLONE_NEW* flags of the namespaces to create (0 when every one is joined). */
  cloneFlags: number;
  idMaps?: IdMapPlan;
  /** Kill the child if tsrun dies during set-up. */
  dieWithParent: boolean;
  preserveFds?: number;
  /** fds of tsrun's the steps name (see Plan.passFds). */
  passFds?: number[];
}

export function composePlan(shape: PlanShape, phases: PhaseSteps): Plan {
  return {
    namespaces: shape.namespaces,
    cloneFlags: shape.cloneFlags,
    ...(shape.idMaps ? { idMaps: shape.idMaps } : {}),
    // The parent must act before the child's first step when it writes id maps; waiting always keeps
    // one code path and lets the parent place the child in its cgroup first.
    waitForParent: true,
    dieWithParent: shape.dieWithParent,
    preserveFds: shape.preserveFds ?? 0,
    ...(shape.passFds?.length ? { passFds: shape.passFds } : {}),
    steps: inPhaseOrder(phases),
    ...withAhead(aheadRange(phases)),
  };
}

function withAhead(ahead: Plan['ahead']): Pick<Plan, 'ahead'> {
  return ahead ? { ahead } : {};
}
