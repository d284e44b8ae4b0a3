// `tsrun run <bundle>` and runc's `tsrun run [--bundle DIR] <id>` in one syntax: with --bundle the
// positional is the id; without it, a positional that is a bundle directory is the bundle.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The bundle comes back absolute (the parser made --bundle absolute; a positional is made so here). */
export function resolveBundleAndId(bundleFlag: string | undefined, positional: string | undefined): { bundle: string; id?: string } {
  if (bundleFlag !== undefined) return positional === undefined ? { bundle: resolve(bundleFlag) } : { bundle: resolve(bundleFlag), id: positional };
  if (positional !== undefined && existsSync(join(positional, 'config.json'))) return { bundle: resolve(positional) };
  return positional === undefined ? { bundle: resolve('.') } : { bundle: resolve('.'), id: positional };
}
