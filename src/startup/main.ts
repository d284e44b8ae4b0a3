// Entry point of `node dist/tsrun.js`, the plain bundle (bin/tsrun uses it when it cannot use the
// startup snapshot: see manifest.ts). It only routes: each command lives in its own module under
// src/cli/commands and is imported lazily, so `tsrun run` never loads the code of `tsrun image` or `spec`.
import { commandTable } from '../cli/table.js';
import { runCli } from '../cli/run-cli.js';

await runCli(process.argv.slice(2), commandTable);
// Exit now rather than when the event loop drains: koffi's worker threads and stdio handles would
// add milliseconds to every command. Everything tsrun prints is written synchronously.
process.exit();
