// Which invocations tsrun's startup snapshot serves itself, and which it hands to the full bundle.
//
// Every command pays for deserializing the snapshot, and its cost grows with its size: with the whole
// CLI inside (yargs for --help, the image store, tar and zstd, the host checks) it was 6.3 MB and
// started ~6 ms later than Node's own snapshot (measured here). So the snapshot holds only the hot
// commands (hot-table.ts); help, `image`, `check`, `inspect`, `explain`, `events` and `run --image`
// load dist/snapshot/full.cjs instead, the same code as one CommonJS file, which costs them the ~20 ms
// of compiling it: fine for commands a person types, not for ones a tool calls in a loop.
import type { CommandEntry } from './command.js';
import { findCommandIndex } from './run-cli.js';
import { parseCommandArgs } from './parse-args.js';

export async function servedBySnapshot(argv: string[], hot: CommandEntry[]): Promise<boolean> {
  // runCli answers --version before anything else, whatever the command.
  if (argv.includes('--version') || argv.includes('-v')) return true;
  const i = findCommandIndex(argv);
  const entry = i < 0 ? undefined : hot.find((e) => e.name === argv[i]);
  if (!entry) return false; // no command (usage), or one outside the snapshot
  const mod = await entry.load();
  let args: Record<string, unknown> & { help: boolean };
  try {
    args = parseCommandArgs(mod, [...argv.slice(0, i), ...argv.slice(i + 1)], mod.command);
  } catch {
    return true; // a usage error: the snapshot reports it exactly as the full bundle would
  }
  if (args.help) return false; // help is rendered by yargs, which stays out of the snapshot
  return !(mod.fullBundleOptions ?? []).some((name) => args[name] !== undefined);
}
