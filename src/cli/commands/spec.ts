// `tsrun spec`: writes a starting config.json into a bundle directory, like `runc spec`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsrunError } from '../../errors.js';
import { defaultSpec } from '../../oci/default-spec.js';
import type { CommandModule } from '../command.js';

interface SpecArgs {
  bundle: string;
  rootless: boolean;
}

const errnoOf = (err: unknown): string | undefined =>
  err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;

/**
 * Writes `<bundleDir>/config.json`, making bundleDir (and its parents) when missing: unlike `runc
 * spec --bundle`, which needs an existing directory, since a new bundle is what it is for. Never
 * overwrites a config.json (one may hold hours of edits).
 */
export function writeDefaultSpec(bundleDir: string, rootless: boolean): string {
  const dir = resolve(bundleDir);
  const configPath = join(dir, 'config.json');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    const errno = errnoOf(err);
    throw new TsrunError(`cannot make bundle directory ${dir}: ${errno ?? String(err)} from mkdir`, { file: dir, syscall: 'mkdir', cause: err, ...(errno ? { errno } : {}) });
  }
  // runc indents with tabs; keep the same so the two outputs diff cleanly.
  const text = JSON.stringify(defaultSpec({ rootless }), null, '\t');
  try {
    writeFileSync(configPath, text, { flag: 'wx', mode: 0o666 });
  } catch (err) {
    const errno = errnoOf(err);
    const details = { file: configPath, cause: err, ...(errno ? { errno } : {}) };
    if (errno === 'EEXIST') throw new TsrunError(`${configPath} already exists; remove it first`, details);
    throw new TsrunError(`cannot write ${configPath}: ${err instanceof Error ? err.message : String(err)}`, details);
  }
  return configPath;
}

const command: CommandModule<SpecArgs> = {
  command: 'spec',
  describe: 'write a default config.json',
  options: {
    bundle: { type: 'string', path: true, short: 'b', default: '.', describe: 'bundle directory to write config.json into (created if missing, with its parents)' },
    rootless: { type: 'boolean', default: false, describe: 'write a config for a container run by an unprivileged user' },
  },
  handler: async (args) => {
    writeDefaultSpec(args.bundle, args.rootless);
    return 0;
  },
};

export default command;
