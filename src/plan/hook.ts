// The plan of a hook that runs inside the container (createContainer, startContainer): tsrun-init
// joins the container's namespaces, as for `exec`, puts the state file on stdin and execs the hook. A
// createContainer hook runs while the host tree is still visible (before pivot_root): its path is
// the host's. A startContainer hook's path resolves inside the container, so the image chooses that
// program: it gets exactly the container process's privileges (capabilities, user, no_new_privs,
// seccomp), as runc's init gives them. Pure.
import type { Plan } from '../abi/steps.js';
import type { Hook, Spec } from '../oci/types.js';
import type { HookPhase } from '../oci/hook-phases.js';
import { joinNamespaces } from '../namespaces/join.js';
import { hookExecStep, hookStdinSteps } from '../process/hook-steps.js';
import { processSteps } from '../process/plan.js';
import { composePlan } from './compose.js';

export interface HookPlanContext {
  /** Host pid of the container's init, whose namespaces are joined. */
  initPid: number;
  /** tsrun's fd on the file holding the state JSON, and that file's path. */
  stateFd: number;
  stateFile: string;
  /** The init's user namespace allows setgroups(2) (see container/exec.ts). */
  setgroupsAllowed: boolean;
}

export function hookPlan(phase: HookPhase, i: number, hook: Hook, config: Spec, ctx: HookPlanContext): Plan {
  const field = `hooks.${phase}[${i}]`;
  const withProcess = phase === 'startContainer';
  const proc = { ...config.process!, terminal: false, args: hook.args ?? [hook.path], env: hook.env ?? [] };
  return composePlan({
    namespaces: joinNamespaces(config, ctx.initPid), cloneFlags: 0, dieWithParent: true,
    // The state file is open in tsrun (close-on-exec): passed through the exec of tsrun-init.
    passFds: [ctx.stateFd],
  }, {
    'hook-stdin': hookStdinSteps(ctx.stateFd, ctx.stateFile, field),
    process: withProcess ? processSteps(proc, { setgroupsAllowed: ctx.setgroupsAllowed, ...(config.linux?.seccomp ? { seccomp: config.linux.seccomp } : {}) }) : [],
    exec: [hookExecStep(hook, field, withProcess ? 'process' : 'namespaces')],
  });
}
