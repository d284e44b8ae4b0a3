// Routes argv to one command module (imported lazily), parses its options without yargs, runs it,
// and turns any error into a message on stderr (text or one JSON line) and a non-zero exit code.
import { appendFileSync, writeSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { CommandEntry, CommandModule, GlobalArgs } from './command.js';
import { GLOBAL_OPTIONS, UsageError, parseCommandArgs } from './parse-args.js';
import { VERSION } from '../version.js';

/** Index of the first positional word of argv, skipping global options (and their values). */
export function findCommandIndex(argv: string[], from = 0): number {
  for (let i = from; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return -1;
    if (a.startsWith('--') && !a.includes('=')) {
      const spec = GLOBAL_OPTIONS[a.slice(2)];
      if (spec && spec.type !== 'boolean') i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return i;
  }
  return -1;
}

export function reportError(err: unknown, format: 'text' | 'json', logFile?: string): number {
  const tsErr = err instanceof TsrunError ? err : undefined;
  const message = tsErr ? tsErr.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  const line = format === 'json'
    ? JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: message, ...(tsErr ? tsErr.toJSON() : {}) }) + '\n'
    : `tsrun: ${message}\n`;
  writeSync(2, line);
  if (logFile) {
    try { appendFileSync(logFile, line); } catch { /* a broken --log must not mask the real error */ }
  }
  return tsErr ? tsErr.exitCode : 1;
}

/** Until the options are parsed, guess the error format and log file from argv so usage errors honour them. */
function guessGlobals(argv: string[]): { format: 'text' | 'json'; log?: string } {
  const at = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
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

/** The command module and its subcommand chain named by argv, and the tokens left for its options. */
async function resolveCommand(argv: string[], table: CommandEntry[]): Promise<{ path: CommandModule<any>[]; tokens: string[] } | undefined> {
  const i = findCommandIndex(argv);
  if (i < 0) return undefined;
  const name = argv[i]!;
  const entry = entryNamed(table, name);
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  const path = [await entry.load()];
  let tokens = [...argv.slice(0, i), ...argv.slice(i + 1)];
  for (;;) {
    const mod = path[path.length - 1]!;
    if (!mod.subcommands) return { path, tokens };
    const j = findCommandIndex(tokens);
    const sub = j >= 0 ? mod.subcommands.find((s) => s.command === tokens[j]) : undefined;
    if (!sub) return { path, tokens };
    path.push(sub);
    tokens = [...tokens.slice(0, j), ...tokens.slice(j + 1)];
  }
}

export interface CliOptions {
  /**
   * Runs an invocation `table` cannot serve: help, a command missing from it, or one whose module
   * says it `needsFullBundle`. The V8 startup snapshot's CLI holds only the hot commands and hands
   * the rest to the full bundle this way (see snapshot-main.ts); without it, `table` must be complete.
   */
  fallback?: (argv: string[]) => Promise<void>;
}

export async function runCli(argv: string[], table: CommandEntry[], options: CliOptions = {}): Promise<void> {
  const guessed = guessGlobals(argv);
  const { fallback } = options;
  try {
    if (argv.includes('--version') || argv.includes('-v')) {
      writeSync(1, `tsrun version ${VERSION}\n`);
      return;
    }
    if (fallback) {
      const i = findCommandIndex(argv);
      if (i < 0 || !entryNamed(table, argv[i]!)) return await fallback(argv);
    }
    const resolved = await resolveCommand(argv, table);
    if (!resolved) {
      process.exitCode = await showHelp(table, []);
      if (!argv.includes('--help') && !argv.includes('-h')) process.exitCode = 2;
      return;
    }
    const mod = resolved.path[resolved.path.length - 1]!;
    const where = resolved.path.map((m) => m.command).join(' ');
    const args = parseCommandArgs(mod, resolved.tokens, where);
    if (fallback && (args.help || mod.needsFullBundle?.(args))) {
      return await fallback(argv);
    }
    if (args.help) {
      process.exitCode = await showHelp(table, resolved.path);
      return;
    }
    guessed.format = (args as GlobalArgs).logFormat;
    process.exitCode = await mod.handler(args);
  } catch (err) {
    process.exitCode = reportError(err, guessed.format, guessed.log);
  }
}
