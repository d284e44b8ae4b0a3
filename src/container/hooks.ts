// OCI hooks (runtime-spec config.md#posix-platform-hooks). Each hook gets the container's state JSON
// on stdin. Hooks of the runtime namespace (prestart, createRuntime, poststart, poststop) run as
// ordinary children of tsrun; hooks of the container namespace (createContainer, startContainer) are
// spawned through the shim with the plan of plan/hook.ts — tsrun-init joins the container's
// namespaces first, as for `exec`, and clones them into the container's cgroup (or is placed there
// by pid when it joins a cgroup namespace: namespaces/join.ts).
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hookError } from './hook-error.js';
import type { Hook, Spec, State } from '../oci/types.js';
import { IN_CONTAINER_HOOK_PHASES, type HookPhase } from '../oci/hook-phases.js';
import * as shim from '../native/shim.js';
import { spawnSettings } from '../native/spawn-settings.js';
import { decodeWaitStatus } from '../native/errno.js';
import { startInCgroup } from '../process/spawn-in-cgroup.js';
import { loadCgroup } from '../cgroups/index.js';
import { joinsCgroupNamespace } from '../namespaces/join.js';
import { noTrace } from '../process/trace.js';
import { hookPlan } from '../plan/hook.js';
import { setgroupsAllowed } from './exec.js';

export type { HookPhase };

async function runContainerHook(phase: HookPhase, i: number, hook: Hook, state: State, config: Spec, stateDir: string, cgroupDir?: string): Promise<void> {
  const stateFile = join(stateDir, `hook-state-${phase}.json`);
  writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 }); // as private as state.json
  const stateFd = openSync(stateFile, 'r');
  const plan = hookPlan(phase, i, hook, config, {
    initPid: state.pid!, stateFd, stateFile, setgroupsAllowed: phase === 'startContainer' && setgroupsAllowed(state.pid!),
  });
  let proc;
  try {
    const cgroup = cgroupDir ? loadCgroup(cgroupDir) : undefined;
    proc = await startInCgroup(plan, {
      trace: noTrace, traceSteps: false, ...(cgroup ? { cgroup } : {}),
      clone3: !spawnSettings().noClone3 && !joinsCgroupNamespace(config), warn: () => {},
    });
    await proc.untilExec();
  } finally {
    closeSync(stateFd);
  }
  const timer = hook.timeout ? setTimeout(() => { try { process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ } }, hook.timeout * 1000) : undefined;
  const status = decodeWaitStatus(await shim.waitPid(proc.pid));
  clearTimeout(timer);
  if (status.signal !== undefined) throw hookError(phase, i, hook, hook.timeout ? `timed out or was killed (signal ${status.signal})` : `was killed by signal ${status.signal}`);
  if (status.exitCode !== 0) throw hookError(phase, i, hook, `exited with status ${status.exitCode}`);
}

/**
 * Runs the hooks of one phase in order; the first failure throws (the caller decides if fatal).
 * `cgroupDir`: the container's cgroup, where hooks of the container namespace are placed.
 */
export async function runHooks(phase: HookPhase, config: Spec, state: State, stateDir: string, cgroupDir?: string): Promise<void> {
  const hooks = config.hooks?.[phase] ?? [];
  for (const [i, hook] of hooks.entries()) {
    if (IN_CONTAINER_HOOK_PHASES.includes(phase)) await runContainerHook(phase, i, hook, state, config, stateDir, cgroupDir);
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
