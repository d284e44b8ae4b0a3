// The whole CLI as one CommonJS file (dist/snapshot/full.cjs), for the invocations the startup
// snapshot leaves out (see snapshot-main.ts). bin/tsrun's snapshot loads it with require().
import { commandTable } from '../cli/table.js';
import { runCli } from '../cli/run-cli.js';

export function runFullCli(argv: string[]): Promise<void> {
  return runCli(argv, commandTable);
}
