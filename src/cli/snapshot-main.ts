// Entry of tsrun's V8 startup snapshot (dist/tsrun.blob). At build time every command module is
// loaded and the hot path of `run` is exercised once on a throwaway plan, so a snapshot start finds
// the CLI's code already in the heap, compiled, instead of loading and compiling it (measured: see
// the README's benchmark section). Native code (koffi) is loaded at run time; nothing here touches
// the host.
import { startupSnapshot } from 'node:v8';
import { commandTable } from './table.js';
import { runCli } from './run-cli.js';
import { parseCommandArgs } from './parse-args.js';
import { defaultSpec } from '../oci/default-spec.js';
import { validateSpec } from '../oci/validate.js';
import { buildPlan } from '../plan/build.js';
import { encodePlan } from '../native/encode-plan.js';
import { describeStep } from '../plan/describe.js';

function warmUp(): void {
  const spec = validateSpec(JSON.parse(JSON.stringify(defaultSpec({ terminal: false }))));
  const plan = buildPlan(spec, {
    bundleDir: '/warm-up', rootfs: '/warm-up/rootfs', runningAsRoot: true, cgroup2Mount: '/sys/fs/cgroup',
    host: { kind: () => 'dir' },
  });
  encodePlan(plan, { trace: false });
  plan.steps.forEach(describeStep);
}

void Promise.all(commandTable.map((entry) => entry.load())).then(async () => {
  const run = await commandTable.find((e) => e.name === 'run')!.load();
  parseCommandArgs(run, ['--bundle', '/warm-up', 'id'], 'run');
  warmUp();
});
startupSnapshot.setDeserializeMainFunction(() => {
  // `node --snapshot-blob B -- args…`: there is no script path in argv.
  void runCli(process.argv.slice(1), commandTable).then(() => process.exit());
});
