// Parses argv with yargs after loading only the command that was asked for, runs it, and turns any
// error into a message on stderr (text or one JSON line) and a non-zero exit code.
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { appendFileSync, writeSync } from 'node:fs';
import { TsrunError } from '../errors.js';
import type { CommandEntry, GlobalArgs } from './command.js';
import { VERSION } from '../version.js';

const GLOBALS_WITH_VALUE = new Set(['--root', '--log', '--log-format']);

/** The first positional word of argv, skipping global options (and their values). */
export function findCommandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (GLOBALS_WITH_VALUE.has(a)) { i++; continue; }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

function globalOptions(y: Argv): Argv<GlobalArgs> {
  return y
    .option('root', { type: 'string', default: '/run/tsrun', describe: 'directory for container state', global: true })
    .option('log', { type: 'string', describe: 'also write errors and warnings to this file', global: true })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'format of errors and logs', global: true })
    .option('debug', { type: 'boolean', default: false, describe: 'print debug output', global: true }) as unknown as Argv<GlobalArgs>;
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

export async function runCli(argv: string[], table: CommandEntry[]): Promise<void> {
  const name = findCommandName(argv);
  const entry = table.find((e) => e.name === name || e.aliases?.includes(name ?? ''));
  let y = globalOptions(yargs(argv))
    .scriptName('tsrun')
    .version(VERSION)
    .strict()
    .help()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => { throw err ?? new TsrunError(msg); });
  if (!entry) {
    for (const e of table) y = y.command(e.name, e.describe);
    y = y.demandCommand(1, 'tsrun: name a command (see --help)');
  } else {
    const mod = await entry.load();
    y = y.command({ command: mod.command, aliases: entry.aliases, describe: mod.describe, builder: mod.builder, handler: () => {} });
  }
  // Until yargs has parsed, guess the error format from argv so even a usage error honours it.
  let format: 'text' | 'json' = argv.includes('--log-format') && argv.includes('json') ? 'json' : 'text';
  let logFile: string | undefined;
  try {
    const args = await y.parseAsync();
    format = (args as unknown as GlobalArgs).logFormat ?? 'text';
    logFile = (args as unknown as GlobalArgs).log;
    if (!entry) return;
    const mod = await entry.load();
    process.exitCode = await mod.handler(args as never);
  } catch (err) {
    process.exitCode = reportError(err, format, logFile);
  }
}
