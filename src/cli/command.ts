// The shape every `tsrun <command>` module exports. The CLI layer only parses and prints; the work is
// done by the library API under src/ (container/, image/, cgroups/ …), which tests call directly.
import type { Argv } from 'yargs';

/** Options every command accepts (runc's global flags). */
export interface GlobalArgs {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
}

export interface CommandModule<A = Record<string, unknown>> {
  /** yargs command string, e.g. `run [id]`. */
  command: string;
  describe: string;
  builder: (y: Argv<GlobalArgs>) => Argv<A>;
  /** Returns the process exit code. Throw a TsrunError for a reported failure. */
  handler: (args: A & GlobalArgs & { _: (string | number)[] }) => Promise<number>;
}

export interface CommandEntry {
  name: string;
  aliases?: string[];
  describe: string;
  load: () => Promise<CommandModule<any>>;
}
