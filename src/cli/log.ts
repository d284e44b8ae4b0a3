// Where tsrun's errors and warnings go, as runc sends them (clients depend on it): without --log, to
// stderr in the --log-format; with --log FILE, the formatted record goes to FILE only, and an error
// is also said on stderr as plain text. containerd's shim passes `--log log.json --log-format json`,
// reads the message from the file and puts what stderr said into its own error: a JSON record on
// stderr ended up inside containerd's and docker's messages.
import { appendFileSync, writeSync } from 'node:fs';
import type { GlobalArgs } from './command.js';

export type LogLevel = 'error' | 'warning';

/** One record: a JSON line (`level`, `time`, `msg` and `fields`), or `tsrun: [warning: ]msg`. */
export function formatRecord(level: LogLevel, msg: string, format: 'text' | 'json', fields: Record<string, unknown> = {}): string {
  if (format === 'json') return JSON.stringify({ level, time: new Date().toISOString(), msg, ...fields }) + '\n';
  return `tsrun: ${level === 'warning' ? 'warning: ' : ''}${msg}\n`;
}

/** Appends to the --log file; a broken one must not mask what is being reported. */
export function appendLog(file: string, line: string): void {
  try { appendFileSync(file, line); } catch { /* see above */ }
}

/** The warn callback of a command: to the --log file when one is given, else to stderr. */
export function cliWarner(globals: Pick<GlobalArgs, 'log' | 'logFormat'>): (message: string) => void {
  return (m) => {
    const line = formatRecord('warning', m, globals.logFormat);
    if (globals.log !== undefined) appendLog(globals.log, line);
    else writeSync(2, line);
  };
}
