// OCI hooks (runtime-spec config.md#posix-platform-hooks). Each hook gets the container's state JSON
// on stdin. Hooks of the runtime namespace (prestart, createRuntime, poststart, poststop) run as
// ordinary children of tsrun; hooks of the container namespace (createContainer, startContainer) are
// spawned through the shim — tsrun-init joins the container's namespaces first, as for `exec`, and
// clones them into the container's cgroup. A startContainer hook's path resolves inside the
// container, so the image chooses that program: it gets exactly the container process's privileges
// (capabilities, user, no_new_privs, seccomp), as runc's init gives them. A createContainer hook
// runs while the host tree is still visible (before pivot_root): its path is the host's.
import { closeSync, constants, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hook, Spec, State } from '../oci/types.js';
import * as shim from '../native/shim.js';
import { decodeWaitStatus } from '../native/errno.js';
import type { Plan } from '../plan/types.js';
import { startProcess } from '../process/parent.js';
import { processSteps } from '../process/plan.js';
import { noTrace } from '../process/trace.js';
import type { Step } from '../plan/types.js';
import { joinPlan, setgroupsAllowed } from './exec.js';
import { hookError, type HookPhase } from './hook-error.js';

/**
 * The steps of a startContainer hook after it joined the container: the container process's own
 * privilege drop (processSteps of `process`), ending in an exec of the hook's path and arguments.
 */
function startContainerHookSteps(hook: Hook, config: Spec, pid: number, field: string): Step[] {
  const proc = { ...config.process!, terminal: false, args: hook.args ?? [hook.path], env: hook.env ?? [] };
  const steps = processSteps(proc, { setgroupsAllowed: setgroupsAllowed(pid), ...(config.linux?.seccomp ? { seccomp: config.linux.seccomp } : {}) });
  return steps.map((s): Step => (s.op === 'exec'
    ? { ...s, path: hook.path, field, why: 'run the hook (a program of the container\'s filesystem) with no more privilege than the container\'s process' }
    : s));
}

async function runContainerHook(phase: HookPhase, i: number, hook: Hook, state: State, config: Spec, stateDir: string, cgroupDir?: string): Promise<void> {
  const stateFile = join(stateDir, `hook-state-${phase}.json`);
  writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 }); // as private as state.json
  const stateFd = openSync(stateFile, 'r');
  const field = `hooks.${phase}[${i}]`;
  const plan: Plan = {
    namespaces: joinPlan(config, state.pid!), cloneFlags: 0, waitForParent: true, dieWithParent: true, preserveFds: 0,
    // The state file is open in tsrun (close-on-exec): passed through the exec of tsrun-init.
    passFds: [stateFd],
    steps: [
      { op: 'stdinFrom', fd: stateFd, path: stateFile, why: 'a hook reads the container state as JSON on stdin', field },
      ...(phase === 'startContainer' ? startContainerHookSteps(hook, config, state.pid!, field) : [
        { op: 'exec' as const, path: hook.path, args: hook.args ?? [hook.path], env: hook.env ?? [], why: 'run the hook inside the container\'s namespaces', field },
      ]),
    ],
  };
  let proc;
  // libuv opens with O_CLOEXEC: tsrun-init gets a copy for clone3 and closes it before anything else.
  const cgroupFd = cgroupDir ? openSync(cgroupDir, constants.O_RDONLY | constants.O_DIRECTORY) : -1;
  try {
    proc = await startProcess(plan, { trace: noTrace, traceSteps: false, cgroupFd });
    await proc.untilExec();
  } finally {
    closeSync(stateFd);
    if (cgroupFd >= 0) closeSync(cgroupFd);
  }
  const timer = hook.timeout ? setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, hook.timeout * 1000) : undefined;
  const status = decodeWaitStatus(await shim.waitPid(proc.pid));
  clearTimeout(timer);
  if (status.signal !== undefined) throw hookError(phase, i, hook, hook.timeout ? `timed out or was killed (signal ${status.signal})` : `was killed by signal ${status.signal}`);
  if (status.exitCode !== 0) throw hookError(phase, i, hook, `exited with status ${status.exitCode}`);
}

const IN_CONTAINER: HookPhase[] = ['createContainer', 'startContainer'];

/**
 * Runs the hooks of one phase in order; the first failure throws (the caller decides if fatal).
 * `cgroupDir`: the container's cgroup, where hooks of the container namespace are placed.
 */
export async function runHooks(phase: HookPhase, config: Spec, state: State, stateDir: string, cgroupDir?: string): Promise<void> {
  const hooks = config.hooks?.[phase] ?? [];
  for (const [i, hook] of hooks.entries()) {
    if (IN_CONTAINER.includes(phase)) await runContainerHook(phase, i, hook, state, config, stateDir, cgroupDir);
    else await (await import('./host-hook.js')).runHostHook(phase, i, hook, state);
  }
}

/** poststart and poststop: a failure is a warning, and the remaining hooks still run. */
export async function runHooksWarning(phase: HookPhase, config: Spec, state: State, warn: (m: string) => void): Promise<void> {
  const hooks = config.hooks?.[phase] ?? [];
  if (hooks.length === 0) return;
  const { runHostHook } = await import('./host-hook.js');
  for (const [i, hook] of hooks.entries()) {
    try {
      await runHostHook(phase, i, hook, state);
    } catch (err) {
      warn((err as Error).message);
    }
  }
}

export function hasCreateHooks(config: Spec): boolean {
  const h = config.hooks ?? {};
  return (h.prestart?.length ?? 0) + (h.createRuntime?.length ?? 0) + (h.createContainer?.length ?? 0) > 0;
}
