// Entry of tsrun's V8 startup snapshot (dist/tsrun.blob). At build time every command module is
// loaded, so a snapshot start finds the CLI's code already in the heap instead of loading and
// compiling it (~20 ms of every command, measured). Native code (koffi) is loaded at run time.
import { startupSnapshot } from 'node:v8';
import { commandTable } from './table.js';
import { runCli } from './run-cli.js';

// The snapshot is written once the event loop is idle, so these loads have finished by then.
void Promise.all(commandTable.map((entry) => entry.load()));
startupSnapshot.setDeserializeMainFunction(() => {
  // `node --snapshot-blob B -- args…`: there is no script path in argv.
  void runCli(process.argv.slice(1), commandTable).then(() => process.exit());
});
