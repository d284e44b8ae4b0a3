// What the runtime-spec says about when each kind of hook runs (config.md#posix-platform-hooks).
import type { Hooks, Spec } from './types.js';

export type HookPhase = keyof Hooks;

/** Run while the container is created, in this order, before `create` returns. */
export const CREATE_HOOK_PHASES = ['prestart', 'createRuntime', 'createContainer'] as const;

/** Run inside the container's namespaces; the others run in the runtime's. */
export const IN_CONTAINER_HOOK_PHASES: readonly HookPhase[] = ['createContainer', 'startContainer'];

export function hasCreateHooks(config: Spec): boolean {
  return CREATE_HOOK_PHASES.some((phase) => (config.hooks?.[phase]?.length ?? 0) > 0);
}
