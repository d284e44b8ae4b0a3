// The error of a failed OCI hook, shared by the hooks that run in the container (hooks.ts) and those
// that run as tsrun's children (host-hook.ts, loaded only when a container has such hooks).
import { TsrunError } from '../errors.js';
import type { Hook } from '../oci/types.js';
import type { HookPhase } from '../oci/hook-phases.js';

export type { HookPhase };

export function hookError(phase: HookPhase, i: number, hook: Hook, problem: string, output = ''): TsrunError {
  const tail = output.trim() ? `: ${output.trim().split('\n').slice(-3).join(' | ')}` : '';
  return new TsrunError(`${phase} hook ${i} (${hook.path}) ${problem}${tail}`, { field: `hooks.${phase}[${i}]` });
}
