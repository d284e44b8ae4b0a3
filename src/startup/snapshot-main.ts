// Entry of tsrun's V8 startup snapshot (dist/tsrun.blob). At build time the hot commands and the
// container code behind them are loaded (their module code has run), and the hot path of `run` is
// exercised once on a throwaway plan, so a snapshot start finds that code in the heap, compiled,
// instead of loading and compiling it. What the snapshot leaves out runs from the full bundle.
//
// Why leave anything out: every command pays for deserializing the snapshot, and its cost grows with
// its size (~4 ms per MB here). With the whole CLI inside (yargs for --help, the image store, tar and
// zstd, the host checks) it was 6.3 MB and started ~6 ms later than Node's own. So it holds the hot
// commands (hot-table.ts), including `run --image` of an imported image; help, `image`, `check`,
// `inspect`, `explain`, `events` and a `run --image` that must import first load dist/snapshot/full.cjs instead, the same code as one CommonJS file, which costs them the
// ~20 ms of compiling it: fine for commands a person types, not for ones a tool calls in a loop. Native code (koffi) is loaded at run time; nothing here touches the host.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startupSnapshot } from 'node:v8';
import { hotTable } from './hot-table.js';
import { runCli } from '../cli/run-cli.js';
import { hasGlobalFlag } from '../cli/parse-args.js';
import { warmUp } from './warm-up.js';
import { packageRoot } from '../package-root.js';
import { exitNow, isLoaded as shimLoaded } from '../native/shim.js';
// The library behind the hot commands, loaded up front (manifest.ts, `preloaded`).
import './preload.js';

void hotTable.find((e) => e.name === 'run')!.load().then(warmUp);

function runFullBundle(argv: string[]): Promise<void> {
  // --debug says which path served the command (tests check the routing with it).
  if (hasGlobalFlag(argv, '--debug')) process.stderr.write('tsrun: debug: not in the startup snapshot, running dist/snapshot/full.cjs\n');
  const full = createRequire(join(packageRoot(), 'package.json'))('./dist/snapshot/full.cjs') as { runFullCli(argv: string[]): Promise<void> };
  return full.runFullCli(argv);
}

startupSnapshot.setDeserializeMainFunction(() => {
  // `node --snapshot-blob B -- args…`: there is no script path in argv.
  const argv = process.argv.slice(1);
  void runCli(argv, hotTable, { fallback: runFullBundle }).then(leave);
});

/**
 * process.exit(), or the same through _exit when a command has loaded the native shim (see exitNow).
 * TSRUN_NODE_EXIT=1 keeps Node's own exit, which flushes V8's --log-* files (bench/lazy-functions.sh).
 */
function leave(): void {
  const code = Number(process.exitCode ?? 0);
  if (shimLoaded() && process.env.TSRUN_NODE_EXIT !== '1') {
    process.emit('exit', code);
    exitNow(code);
  }
  process.exit(code);
}
