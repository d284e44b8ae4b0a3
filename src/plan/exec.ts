// The plan of an exec'd process (`tsrun exec`): join every namespace of the container's init, enter
// its root if no namespace gives it, then the process steps of `process`. Pure.
import { TsrunError } from '../errors.js';
import type { Plan } from '../abi/steps.js';
import type { Process, Spec } from '../oci/types.js';
import { joinNamespaces, sharesCallerMountNamespace } from '../namespaces/join.js';
import { enterInitRootSteps } from '../rootfs/enter-init-root.js';
import { execStep, processSteps } from '../process/plan.js';
import { composePlan } from './compose.js';

export interface ExecPlanContext {
  /** Host pid of the container's init, whose namespaces are joined. */
  initPid: number;
  /** An fd of tsrun's on the init's root directory; required when the container has no mount namespace. */
  initRootFd?: number;
  setgroupsAllowed: boolean;
  detach: boolean;
  consoleSize?: { rows: number; cols: number };
}

export function execPlan(config: Spec, proc: Process, ctx: ExecPlanContext): Plan {
  const enterRoot = sharesCallerMountNamespace(config);
  if (enterRoot && ctx.initRootFd === undefined) {
    throw new TsrunError('exec: the container has no mount namespace, so the plan needs the init\'s root to enter');
  }
  const exec = execStep(proc);
  return composePlan({
    namespaces: joinNamespaces(config, ctx.initPid), cloneFlags: 0, dieWithParent: !ctx.detach,
    // The root fd is close-on-exec in tsrun: passed through the exec of tsrun-init, which reaches it
    // through its own /proc/self/fd.
    ...(enterRoot ? { passFds: [ctx.initRootFd!] } : {}),
  }, {
    'enter-init-root': enterRoot ? enterInitRootSteps(`/proc/self/fd/${ctx.initRootFd!}`) : [],
    process: processSteps(proc, { setgroupsAllowed: ctx.setgroupsAllowed, ...(ctx.consoleSize ? { consoleSize: ctx.consoleSize } : {}), ...(config.linux?.seccomp ? { seccomp: config.linux.seccomp } : {}) }),
    exec: [exec],
  });
}
