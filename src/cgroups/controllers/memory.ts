// linux.resources.memory → the v2 memory controller.
//   limit        → memory.max        (-1 → max; 0 means "not set", as in runc)
//   reservation  → memory.low        (the v2 soft guarantee closest to v1's soft_limit_in_bytes)
//   swap         → memory.swap.max   OCI's swap is memory+swap (a v1 notion); v2 limits swap alone, so we
//                                    write swap − limit. -1 → max. limit -1 with swap unset → swap max too.
//   disableOOMKiller: true is refused: v2 has no per-cgroup switch to turn the OOM killer off.
//   kernel, kernelTCP, swappiness: no v2 file; reported as warnings by the planner.
import { ConfigError } from '../../errors.js';
import type { Resources } from '../../oci/types.js';
import type { FileWrite } from '../types.js';
import { limitValue, requireLimit } from './common.js';

export function memoryWrites(resources: Resources, prefix: string): FileWrite[] {
  const memory = resources.memory;
  if (memory === undefined) return [];
  const p = `${prefix}.memory`;
  const out: FileWrite[] = [];
  const write = (file: string, value: string, field: string): void => {
    out.push({ controller: 'memory', file, value, field });
  };

  if (memory.disableOOMKiller === true) {
    throw new ConfigError(
      `${p}.disableOOMKiller`,
      'cannot be honoured on cgroup v2: there is no way to disable the OOM killer for a cgroup (remove the field, or set memory.oom.group through linux.resources.unified)',
    );
  }
  const limit = memory.limit === undefined ? 0 : requireLimit(`${p}.limit`, memory.limit);
  if (limit !== 0) write('memory.max', limitValue(limit), `${p}.limit`);

  if (memory.reservation !== undefined) {
    const reservation = requireLimit(`${p}.reservation`, memory.reservation);
    if (reservation !== 0) write('memory.low', limitValue(reservation), `${p}.reservation`);
  }

  const swap = memory.swap === undefined ? 0 : requireLimit(`${p}.swap`, memory.swap);
  const swapMax = swapMaxValue(swap, limit, `${p}.swap`);
  if (swapMax !== undefined) {
    // "Unlimited swap" implied by an unlimited limit is skipped on kernels without swap accounting
    // (no memory.swap.max); a swap value the config spells out is not.
    const implied = swap === 0;
    out.push({ controller: 'memory', file: 'memory.swap.max', value: swapMax, field: implied ? `${p}.limit` : `${p}.swap`, ...(implied ? { optional: true } : {}) });
  }
  return out;
}

/**
 * Converts OCI's memory+swap total to v2's swap-only limit, or undefined when nothing is to be written.
 * Exported for tests; the rules are runc's so that configs behave the same under both runtimes.
 */
export function swapMaxValue(swap: number, limit: number, field: string): string | undefined {
  if (swap === 0) return limit === -1 ? 'max' : undefined; // unlimited memory implies unlimited swap
  if (swap === -1) return 'max';
  if (limit === 0 || limit === -1) {
    throw new ConfigError(field, 'a swap limit needs a memory limit (linux.resources.memory.limit), since OCI swap is memory+swap');
  }
  if (swap < limit) {
    throw new ConfigError(field, `is memory+swap and must be >= memory.limit (${limit}), got ${swap}`);
  }
  return String(swap - limit);
}
