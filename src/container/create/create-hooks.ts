// Create, phase 4: prestart, createRuntime and createContainer hooks, while the init waits before
// pivot_root (plan/phases.ts: hook-pause); then the init goes on to its start gate.
import type { ContainerProcess } from '../../process/parent.js';
import { CREATE_HOOK_PHASES, hasCreateHooks } from '../../oci/hook-phases.js';
import type { Spec } from '../../oci/types.js';
import { OCI_VERSION } from '../../version.js';
import { runHooks, runHooksWarning } from '../hooks.js';
import type { CreateContext } from './context.js';
import type { Materialized } from './materialize.js';
import type { Prepared } from './prepare.js';

export async function runCreateHooks(ctx: CreateContext, p: Prepared, m: Materialized, init: ContainerProcess): Promise<void> {
  if (!hasCreateHooks(p.spec)) return;
  const { opts, store } = ctx;
  const state = { ociVersion: OCI_VERSION, id: opts.id, status: 'creating' as const, pid: init.pid, bundle: p.bundle.dir, annotations: p.spec.annotations ?? {} };
  for (const phase of CREATE_HOOK_PHASES) {
    // prestart is the legacy hook, called as if the container were created (crun and the suite agree).
    await runHooks(phase, p.spec, phase === 'prestart' ? { ...state, status: 'created' as const } : state, store.dir(opts.id), m.cgroup?.dir);
  }
  await init.continue();
}

/** runtime-spec: a failed create hook destroys the container, then poststop hooks still run. */
export async function poststopAfterFailedCreate(ctx: CreateContext, spec: Spec): Promise<void> {
  if (!spec.hooks?.poststop?.length) return;
  const { opts, store } = ctx;
  const state = { ociVersion: OCI_VERSION, id: opts.id, status: 'stopped' as const, bundle: opts.bundle ?? store.dir(opts.id), annotations: spec.annotations ?? {} };
  await runHooksWarning('poststop', spec, state, ctx.warn);
}
