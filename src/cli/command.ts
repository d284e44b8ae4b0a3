// The shape every `tsrun <command>` module exports. Options are declared as data: the fast parser
// (node:util parseArgs, no start-up cost) reads them for every invocation, and yargs renders --help
// from the same declarations, loaded only when help is asked for. The CLI layer only parses and
// prints; the work is done by the library API under src/ (container/, image/, cgroups/ …).

/** runc's global options: given before the command, passed to every command's handler. */
export interface GlobalArgs {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  /** runc's --systemd-cgroup: systemd makes the containers' cgroups (transient scopes). */
  systemdCgroup?: boolean;
}

export interface OptionSpec {
  type: 'string' | 'boolean' | 'number';
  describe: string;
  /** One letter: `-b` for `--bundle`. */
  short?: string;
  default?: string | boolean | number;
  /** A default that depends on who runs tsrun (the state root, the image store): computed per invocation. */
  defaultOf?: () => string;
  choices?: readonly string[];
  /** May be given several times; the value is an array. */
  multiple?: boolean;
  /** A file or directory: made absolute (against the working directory) when parsed. */
  path?: boolean;
}

export interface PositionalSpec {
  name: string;
  describe: string;
  required?: boolean;
  /** Takes every remaining positional (e.g. the command after `--`). */
  variadic?: boolean;
  /** A file or directory: made absolute (against the working directory) when parsed. */
  path?: boolean;
}

/** Parsed arguments: option names in camelCase, positionals by name, `_` the positionals left over. */
export type ParsedArgs<A> = A & GlobalArgs & { _: string[] };

export interface CommandModule<A = Record<string, unknown>> {
  /** The command word, e.g. `run` (or `import` for a subcommand). */
  command: string;
  describe: string;
  positionals?: PositionalSpec[];
  options?: Record<string, OptionSpec>;
  /**
   * Option parsing stops after this many positionals; the rest go to the variadic positional as
   * they are (runc's `exec ID cmd -c …`, where `-c` belongs to cmd).
   */
  optionsEndAfterPositionals?: number;
  /** Commands with subcommands (`tsrun image import …`) list them here. */
  subcommands?: CommandModule<any>[];
  /**
   * True when this invocation needs code that tsrun's startup snapshot leaves out (`run --image` of
   * a layout or archive not imported yet needs the import code): it is then handed to the full
   * bundle (src/startup/snapshot-main.ts). Must be cheap: it runs before every snapshot-served command.
   */
  needsFullBundle?: (args: ParsedArgs<A>) => boolean;
  /**
   * The exit status when this command fails (its error is on stderr); without it, the error's own
   * (1; 2 for a usage error). `run` uses podman's 125/126/127, `exec` runc's 255 (see exit-status.ts).
   */
  failureStatus?: (err: unknown) => number;
  /** Printed at the end of the command's --help (exit statuses, notes). */
  epilog?: string;
  /** Returns the process exit code. Throw a TsrunError for a reported failure. */
  handler: (args: ParsedArgs<A>) => Promise<number>;
}

export interface CommandEntry {
  name: string;
  aliases?: string[];
  describe: string;
  load: () => Promise<CommandModule<any>>;
}
