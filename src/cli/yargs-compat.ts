// Transitional: runs a command module that still declares its options through yargs' builder API.
// Such a command pays yargs' start-up cost; converting it to `options` data removes this path.
import yargs from 'yargs';
import type { Argv } from 'yargs';
import type { CommandModule, GlobalArgs } from './command.js';
import { GLOBAL_OPTIONS } from './parse-args.js';

export async function runWithYargs(mod: CommandModule<any>, argv: string[]): Promise<number> {
  let y = yargs(argv).scriptName('tsrun').strict().help()
    .fail((msg: string, err?: Error) => { throw err ?? new Error(msg); }) as unknown as Argv<GlobalArgs>;
  for (const [name, spec] of Object.entries(GLOBAL_OPTIONS)) {
    y = y.option(name, { type: spec.type, describe: spec.describe, global: true, ...(spec.default !== undefined ? { default: spec.default } : {}) }) as Argv<GlobalArgs>;
  }
  let code = 0;
  await y.command({
    command: mod.command, describe: mod.describe, builder: mod.builder!,
    handler: async (args: unknown) => { code = await mod.handler(args as never); },
  }).parseAsync();
  return code;
}
