// What the library uses when the caller does not say: the CLI's state root, warnings as Node's.
import type { CommonOptions } from './types.js';

export const DEFAULT_ROOT = '/run/tsrun';

export function rootOf(opts: CommonOptions): string {
  return opts.root ?? opts.session?.root ?? DEFAULT_ROOT;
}

export function warnOf(opts: CommonOptions): (message: string) => void {
  return opts.warn ?? ((m) => process.emitWarning(m, 'TsrunWarning'));
}

/** After a process exits, its output may still be in the pipes (or held by a leftover): wait this long at most. */
export const OUTPUT_DRAIN_MS = 2_000;

export async function drained(ended: Promise<void>): Promise<void> {
  let t: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([ended, new Promise<void>((r) => { t = setTimeout(r, OUTPUT_DRAIN_MS); })]);
  clearTimeout(t);
}
