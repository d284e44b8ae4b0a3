// Argument parsing for every command without loading yargs (which alone costs ~50 ms of start-up,
// measured on these machines, against a 15 ms budget for a whole `tsrun run`). Built on
// node:util parseArgs with the command's declared options.
//
// The command line is runc's: `tsrun [global options] command [command options] [arguments]`.
// Global options are recognised only before the command, and a command's options only after it, so
// a word meant for something else is an error naming it instead of a silent surprise (`run --image I
// -v /tmp:/host` used to print the version and exit 0, running nothing). Every path an option or a
// path positional names is made absolute here, once: the library never sees a relative path (a
// relative --root reached an overlay mount made from another working directory).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TsrunError } from '../errors.js';
import { defaultStateRoot } from '../state/user-dirs.js';
import type { CommandModule, GlobalArgs, OptionSpec } from './command.js';

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  // Its default depends on the user (src/state/user-dirs.ts).
  root: { type: 'string', path: true, defaultOf: defaultStateRoot, describe: 'directory for container state (default: /run/tsrun as root, $XDG_RUNTIME_DIR/tsrun or ~/.local/share/tsrun/state for another user)' },
  log: { type: 'string', path: true, describe: 'also append errors and warnings to this file' },
  'log-format': { type: 'string', default: 'text', choices: ['text', 'json'], describe: 'format of errors, warnings and --trace' },
  debug: { type: 'boolean', default: false, describe: 'print debug output' },
  'systemd-cgroup': { type: 'boolean', default: false, describe: 'have systemd make each container\'s cgroup, a transient scope (linux.cgroupsPath "slice:prefix:name"), as runc does' },
  version: { type: 'boolean', short: 'v', default: false, describe: 'print the version and exit' },
  help: { type: 'boolean', short: 'h', default: false, describe: 'show help' },
};

/** Every command takes --help/-h (after the command: help for that command). */
export const HELP_OPTION: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', default: false, describe: 'show help' },
};

export class UsageError extends TsrunError {
  override name = 'UsageError';
  constructor(message: string, readonly command?: string) {
    super(`${message} (see tsrun ${command ? `${command} ` : ''}--help)`, {}, 2);
  }
}

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function convert(name: string, spec: OptionSpec, raw: unknown, where: string | undefined): unknown {
  const one = (v: unknown): unknown => {
    if (spec.type === 'number') {
      const n = Number(v);
      if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number, got ${JSON.stringify(v)}`, where);
      return n;
    }
    if (spec.choices && typeof v === 'string' && !spec.choices.includes(v)) {
      throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(v)}`, where);
    }
    if (spec.path && typeof v === 'string') {
      if (v === '') throw new UsageError(`--${name} needs a path, got ""`, where);
      return resolve(v);
    }
    return v;
  };
  return Array.isArray(raw) ? raw.map(one) : one(raw);
}

type ParseOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

function parserOptions(all: Record<string, OptionSpec>): ParseOptions {
  const options: ParseOptions = {};
  for (const [name, spec] of Object.entries(all)) {
    options[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  return options;
}

/** The values of `all` from parseArgs' output: defaults filled in, numbers, choices and paths checked. */
function collect(all: Record<string, OptionSpec>, values: Record<string, unknown>, where: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(all)) {
    const raw = values[name];
    const fixed = spec.defaultOf ? spec.defaultOf() : spec.default;
    const fallback = spec.path && typeof fixed === 'string' ? resolve(fixed) : fixed;
    const value = raw === undefined ? fallback : convert(name, spec, raw, where);
    if (value !== undefined) out[camel(name)] = value;
  }
  return out;
}

/** `--x`, `--x=v`, `-x` or `-xyz` → the option it names (`--x`, `-x`). */
const optionName = (token: string): string => (token.startsWith('--') ? token.split('=')[0]! : token.slice(0, 2));

function globalNamed(option: string): string | undefined {
  if (option.startsWith('--')) return GLOBAL_OPTIONS[option.slice(2)] && option !== '--help' ? option : undefined;
  const entry = Object.entries(GLOBAL_OPTIONS).find(([name, s]) => s.short === option[1] && name !== 'help');
  return entry ? `--${entry[0]}` : undefined;
}

/** parseArgs' errors, rewritten to name the option and, for a global one, where it belongs. */
function usageErrorOf(err: unknown, where: string | undefined): UsageError {
  const message = (err as Error).message.replace(/\. To specify a positional.*$/s, '');
  const code = (err as { code?: string }).code;
  const unknown = /^Unknown option '([^']+)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) {
    const global = where === undefined ? undefined : globalNamed(unknown);
    if (global) {
      const alias = global === unknown ? '' : ` (${global})`;
      return new UsageError(`${unknown} is a global option${alias}, given before the command only (tsrun ${unknown} … ${where} …); ${where} has no option ${unknown}`, where);
    }
    return new UsageError(`unknown option ${unknown}${where ? ` for tsrun ${where}` : ' before the command'}`, where);
  }
  return new UsageError(message.replace(/^./, (c) => c.toLowerCase()), where);
}

export interface GlobalParse {
  globals: GlobalArgs & { help: boolean; version: boolean };
  /** Index in argv of the command word, or -1 when there is none. */
  commandIndex: number;
}

/** Index of the first word of `argv` that is not a global option or its value (the command), or -1. */
export function findCommandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return -1;
    if (!a.startsWith('-') || a === '-') return i;
    const global = a.startsWith('--') ? GLOBAL_OPTIONS[a.slice(2)] : undefined;
    if (global && global.type !== 'boolean') i++;
  }
  return -1;
}

/** Whether a boolean global option (e.g. `--debug`) is among the words before the command. */
export function hasGlobalFlag(argv: readonly string[], flag: string): boolean {
  const command = findCommandIndex(argv);
  const end = command >= 0 ? command : argv.includes('--') ? argv.indexOf('--') : argv.length;
  return argv.slice(0, end).some((a, i, before) => a === flag && !(i > 0 && GLOBAL_OPTIONS[before[i - 1]!.slice(2)]?.type === 'string'));
}

/**
 * Parses the global options: the words of argv before the command. Anything else there (an option
 * runc has and tsrun not, `--rootless`; a typo) is a usage error naming it.
 */
export function parseGlobalArgs(argv: readonly string[]): GlobalParse {
  const commandIndex = findCommandIndex(argv);
  const before = commandIndex < 0 ? argv.filter((a) => a !== '--') : argv.slice(0, commandIndex);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...before], options: parserOptions(GLOBAL_OPTIONS), allowPositionals: false, strict: true });
  } catch (err) {
    throw usageErrorOf(err, undefined);
  }
  // GLOBAL_OPTIONS is the only source of these keys and their types.
  return { globals: collect(GLOBAL_OPTIONS, parsed.values, undefined) as unknown as GlobalParse['globals'], commandIndex };
}

/** Index just after the n-th positional of `tokens` (option values are not positionals). */
function indexAfterPositionals(tokens: string[], all: Record<string, OptionSpec>, n: number): number {
  let seen = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '--') return i;
    if (t.startsWith('--')) {
      const spec = all[t.slice(2)];
      if (spec && spec.type !== 'boolean' && !t.includes('=')) i++;
      continue;
    }
    if (t.startsWith('-') && t.length > 1) {
      const spec = Object.values(all).find((s) => s.short === t[1]);
      if (spec && spec.type !== 'boolean' && t.length === 2) i++;
      continue;
    }
    if (++seen === n) return i + 1;
  }
  return tokens.length;
}

/**
 * Parses `tokens` (the words after the command words) for `mod`, with `globals` from before the
 * command. Throws UsageError for unknown or misplaced options, missing values and positionals.
 */
export function parseCommandArgs<A>(
  mod: CommandModule<A>, tokens: string[], where: string, globals: GlobalArgs = parseGlobalArgs([]).globals,
): A & GlobalArgs & { _: string[]; help: boolean } {
  const all: Record<string, OptionSpec> = { ...HELP_OPTION, ...mod.options };
  let tail: string[] = [];
  if (mod.optionsEndAfterPositionals !== undefined) {
    const cut = indexAfterPositionals(tokens, all, mod.optionsEndAfterPositionals);
    tail = tokens.slice(cut);
    tokens = tokens.slice(0, cut);
    if (tail[0] === '--') tail = tail.slice(1);
  } else if (tokens.includes('--')) {
    // Everything after `--` belongs to the variadic positional (`run --image I ID -- cmd -c …`).
    tail = tokens.slice(tokens.indexOf('--') + 1);
    tokens = tokens.slice(0, tokens.indexOf('--'));
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: tokens, options: parserOptions(all), allowPositionals: true, strict: true });
  } catch (err) {
    throw usageErrorOf(err, where);
  }
  const out: Record<string, unknown> = {
    root: globals.root, logFormat: globals.logFormat, debug: globals.debug, ...(globals.log !== undefined ? { log: globals.log } : {}),
    ...(globals.systemdCgroup ? { systemdCgroup: true } : {}),
  };
  Object.assign(out, collect(all, parsed.values, where));
  // After `--`, words go to the variadic positional when there is one (`run --image I ID -- cmd`);
  // otherwise `--` only ends the options and the words fill the positionals (`create -- -x`).
  const dashdash = mod.optionsEndAfterPositionals === undefined && (mod.positionals ?? []).some((p) => p.variadic);
  const rest = dashdash ? [...parsed.positionals] : [...parsed.positionals, ...tail];
  for (const p of mod.positionals ?? []) {
    if (p.variadic) { out[camel(p.name)] = [...rest.splice(0), ...(dashdash ? tail.splice(0) : [])]; continue; }
    const v = rest.shift();
    if (v === undefined && p.required && !out.help) throw new UsageError(`missing ${p.name.toUpperCase()}`, where);
    if (v !== undefined) out[camel(p.name)] = p.path ? resolve(v) : v;
  }
  if ((rest.length > 0 || tail.length > 0 && dashdash) && !out.help) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0] ?? tail[0])}`, where);
  out._ = rest;
  // The declarations above are the only source of these keys and their types.
  return out as A & GlobalArgs & { _: string[]; help: boolean };
}
