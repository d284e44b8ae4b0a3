// A plan in the two parts a warm init runs (process/warm-init.ts): the steps that may run before
// its container is asked for (Plan.ahead), and the rest, sent at use. Pure.
import type { Plan } from '../abi/steps.js';

export interface AheadSplit {
  /** Run at once by the warm init: no fd of tsrun's, no wait for tsrun's go-ahead. */
  ahead: Plan;
  /** What the container's own plan is then: the steps before and after `ahead`, in their order. */
  rest: Plan;
}

export function splitAhead(plan: Plan): AheadSplit | undefined {
  const range = plan.ahead;
  if (!range) return undefined;
  const { ahead: _, ...base } = plan;
  const { passFds: __, ...noFds } = base;
  return {
    ahead: { ...noFds, waitForParent: false, steps: plan.steps.slice(range.from, range.to) },
    rest: { ...base, steps: [...plan.steps.slice(0, range.from), ...plan.steps.slice(range.to)] },
  };
}
