// The library's containers get pipes tsrun reads, never the caller's fds 0-2 (the CLI keeps runc's
// semantics: its stdio is passed through). Pure: a plan with its first steps making the given fds of
// tsrun's the process's stdin, stdout and stderr.
import type { Plan, Step } from '../abi/steps.js';

/** fds of tsrun's (close-on-exec) that become the container process's 0, 1 and 2. */
export interface StdioFds {
  stdin: number;
  stdout: number;
  stderr: number;
}

export function withStdio(plan: Plan, fds: StdioFds | undefined): Plan {
  if (!fds) return plan;
  const order = [fds.stdin, fds.stdout, fds.stderr];
  const steps: Step[] = order.map((fd, target) => ({
    op: 'dupFd', fd, target, why: 'the library reads this process\'s output through a pipe of its own: the caller\'s stdio never reaches the container',
  }));
  // First, before any namespace step: they resolve no path, and a failed set-up step can then be
  // reported on the pipes too. The originals cross the exec of tsrun-init as passed fds and end at
  // the final exec (they are close-on-exec; dup2 clears that flag on 0-2 only).
  const ahead = plan.ahead && { from: plan.ahead.from + steps.length, to: plan.ahead.to + steps.length };
  return { ...plan, passFds: [...(plan.passFds ?? []), ...order], steps: [...steps, ...plan.steps], ...(ahead ? { ahead } : {}) };
}
