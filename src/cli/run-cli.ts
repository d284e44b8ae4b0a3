// Routes argv to one command module (imported lazily), parses its options without yargs, runs it,
// and turns any error into a message on stderr (text or one JSON line) and a non-zero exit code.
import { appendFileSync, writeSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import { isSystemError, systemErrorLine } from '../state/access-error.js';
import type { CommandEntry, CommandModule, GlobalArgs } from './command.js';
import { UsageError, findCommandIndex, parseCommandArgs, parseGlobalArgs } from './parse-args.js';
import { VERSION } from '../version.js';
import { applyEnvironment } from './environment.js';

export { findCommandIndex } from './parse-args.js';

export function reportError(err: unknown, format: 'text' | 'json', logFile?: string): number {
  const tsErr = err instanceof TsrunError ? err : undefined;
  // A system error (EACCES on a path…) is about the machine, not a bug: one line, no stack.
  const message = tsErr ? tsErr.message : isSystemError(err) ? systemErrorLine(err) : err instanceof Error ? (err.stack ?? err.message) : String(err);
  const line = format === 'json'
    ? JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: message, ...(tsErr ? tsErr.toJSON() : {}) }) + '\n'
    : `tsrun: ${message}\n`;
  writeSync(2, line);
  if (logFile) {
    try { appendFileSync(logFile, line); } catch { /* a broken --log must not mask the real error */ }
  }
  return tsErr ? tsErr.exitCode : 1;
}

/**
 * Until the global options are parsed, guess the error format and log file from the words before
 * the command, so that an error in them still honours the others.
 */
function guessGlobals(argv: string[]): { format: 'text' | 'json'; log?: string } {
  const i = findCommandIndex(argv);
  const before = i < 0 ? argv : argv.slice(0, i);
  const at = (name: string): string | undefined => {
    const j = before.indexOf(name);
    return j >= 0 ? before[j + 1] : before.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  };
  const log = at('--log');
  return { format: at('--log-format') === 'json' ? 'json' : 'text', ...(log ? { log } : {}) };
}

async function showHelp(table: CommandEntry[], path: CommandModule<any>[]): Promise<number> {
  const { renderHelp } = await import('./help.js');
  writeSync(1, await renderHelp(table, path));
  return 0;
}

const entryNamed = (table: CommandEntry[], name: string): CommandEntry | undefined =>
  table.find((e) => e.name === name || e.aliases?.includes(name));

/** The command module and its subcommand chain named by argv[commandIndex…], and the words left for its options. */
async function resolveCommand(argv: string[], commandIndex: number, table: CommandEntry[]): Promise<{ path: CommandModule<any>[]; tokens: string[] }> {
  const name = argv[commandIndex]!;
  const entry = entryNamed(table, name);
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  const path = [await entry.load()];
  let tokens = argv.slice(commandIndex + 1);
  for (;;) {
    const mod = path[path.length - 1]!;
    // A subcommand is the word right after its command (`tsrun image ls --store S`).
    const word = tokens[0];
    if (!mod.subcommands || word === undefined || word.startsWith('-')) return { path, tokens };
    const sub = mod.subcommands.find((s) => s.command === word);
    if (!sub) throw new UsageError(`unknown ${mod.command} subcommand ${JSON.stringify(word)}`, mod.command);
    path.push(sub);
    tokens = tokens.slice(1);
  }
}

export interface CliOptions {
  /**
   * Runs an invocation `table` cannot serve: help, a command missing from it, or one whose module
   * says it `needsFullBundle`. The V8 startup snapshot's CLI holds only the hot commands and hands
   * the rest to the full bundle this way (see src/startup/snapshot-main.ts); without it, `table` must be complete.
   */
  fallback?: (argv: string[]) => Promise<void>;
}

export async function runCli(argv: string[], table: CommandEntry[], options: CliOptions = {}): Promise<void> {
  const guessed = guessGlobals(argv);
  const { fallback } = options;
  let mod: CommandModule<any> | undefined;
  try {
    const { globals, commandIndex } = parseGlobalArgs(argv);
    guessed.format = globals.logFormat;
    if (globals.log !== undefined) guessed.log = globals.log;
    if (globals.version) {
      writeSync(1, `tsrun version ${VERSION}\n`);
      return;
    }
    applyEnvironment(process.env);
    if (fallback && (commandIndex < 0 || !entryNamed(table, argv[commandIndex]!))) return await fallback(argv);
    if (commandIndex < 0) {
      process.exitCode = await showHelp(table, []);
      if (!globals.help) process.exitCode = 2;
      return;
    }
    const resolved = await resolveCommand(argv, commandIndex, table);
    mod = resolved.path[resolved.path.length - 1]!;
    const where = resolved.path.map((m) => m.command).join(' ');
    const args = parseCommandArgs(mod, resolved.tokens, where, globals);
    const help = args.help || globals.help;
    if (fallback && (help || mod.needsFullBundle?.(args))) return await fallback(argv);
    if (help) {
      process.exitCode = await showHelp(table, resolved.path);
      return;
    }
    process.exitCode = await mod.handler(args as GlobalArgs & typeof args);
  } catch (err) {
    const status = reportError(err, guessed.format, guessed.log);
    process.exitCode = (mod ?? await commandNamedIn(argv, table))?.failureStatus?.(err) ?? status;
  }
}

/** The module of the command word in argv, when an error came before it was loaded. */
async function commandNamedIn(argv: string[], table: CommandEntry[]): Promise<CommandModule<any> | undefined> {
  const i = findCommandIndex(argv);
  const entry = i < 0 ? undefined : entryNamed(table, argv[i]!);
  try { return await entry?.load(); } catch { return undefined; }
}
