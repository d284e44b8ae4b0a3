// `tsrun spec`: writes a starting config.json into a bundle directory, like `runc spec`.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsrunError } from '../../errors.js';
import { defaultSpec } from '../../oci/default-spec.js';
import type { CommandModule } from '../command.js';

interface SpecArgs {
  bundle: string;
  rootless: boolean;
}

/** Writes `<bundleDir>/config.json`; never overwrites one (a config may hold hours of edits). */
export function writeDefaultSpec(bundleDir: string, rootless: boolean): string {
  const configPath = join(resolve(bundleDir), 'config.json');
  // runc indents with tabs; keep the same so the two outputs diff cleanly.
  const text = JSON.stringify(defaultSpec({ rootless }), null, '\t');
  try {
    writeFileSync(configPath, text, { flag: 'wx', mode: 0o666 });
  } catch (err) {
    const errno = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    const details = { file: configPath, cause: err, ...(errno ? { errno } : {}) };
    if (errno === 'EEXIST') throw new TsrunError(`${configPath} already exists; remove it first`, details);
    if (errno === 'ENOENT') throw new TsrunError(`bundle directory ${resolve(bundleDir)} does not exist`, details);
    throw new TsrunError(`cannot write ${configPath}: ${err instanceof Error ? err.message : String(err)}`, details);
  }
  return configPath;
}

const command: CommandModule<SpecArgs> = {
  command: 'spec',
  describe: 'write a default config.json',
  options: {
    bundle: { type: 'string', path: true, short: 'b', default: '.', describe: 'bundle directory to write config.json into' },
    rootless: { type: 'boolean', default: false, describe: 'write a config for a container run by an unprivileged user' },
  },
  handler: async (args) => {
    writeDefaultSpec(args.bundle, args.rootless);
    return 0;
  },
};

export default command;
