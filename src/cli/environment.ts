// The CLI's edge with its environment: the TSRUN_* variables that change how tsrun spawns (the tests
// run both ways; a host may need another tsrun-init), read once per command and handed to the library
// as settings (native/spawn-settings.ts). Nothing under src/ other than the CLI reads them.
//
//   TSRUN_INIT=PATH        another tsrun-init (still run from a read-only copy); empty is an error
//   TSRUN_INIT_COPY=memfd  the sealed memfd copy of tsrun-init instead of the read-only mount
//   TSRUN_NO_CLONE3=1      as on a kernel without clone3 (clone; the cgroup through cgroup.procs)
//   TSRUN_SHIM=PATH        another libtsrun-shim.so
//   TSRUN_TWO_STAGE=1      every container process through tsrun-init's two stages
//   TSRUN_QUICK_REPORT_MS=N  wait N ms for a report before the read moves to a worker thread
//
// (TSRUN_PACKAGE_ROOT is how bin/tsrun tells the code where the package is: src/package-root.ts;
// TSRUN_NODE_EXIT belongs to the snapshot's entry, src/startup/snapshot-main.ts.)
import { TsrunError } from '../errors.js';
import { configureSpawn, type SpawnSettings } from '../native/spawn-settings.js';

export function spawnSettingsFrom(env: NodeJS.ProcessEnv): Partial<SpawnSettings> {
  if (env.TSRUN_INIT === '') {
    // It used to select a fork of Node instead: there is none any more (see tsrun_spawn in shim.c).
    throw new TsrunError('TSRUN_INIT is empty: name a tsrun-init program or unset it (the fork of Node it once selected is gone: no process tsrun puts in a container is a copy of Node)');
  }
  if (env.TSRUN_INIT_COPY !== undefined && env.TSRUN_INIT_COPY !== 'memfd' && env.TSRUN_INIT_COPY !== 'mount') {
    throw new TsrunError(`TSRUN_INIT_COPY=${env.TSRUN_INIT_COPY}: say memfd or mount`);
  }
  const q = env.TSRUN_QUICK_REPORT_MS === undefined ? NaN : Number(env.TSRUN_QUICK_REPORT_MS);
  const quick = Number.isInteger(q) && q >= 0 ? q : undefined;
  return {
    ...(env.TSRUN_INIT ? { initProgram: env.TSRUN_INIT } : {}),
    ...(env.TSRUN_INIT_COPY ? { initCopy: env.TSRUN_INIT_COPY } : {}),
    ...(env.TSRUN_NO_CLONE3 ? { noClone3: true } : {}),
    ...(env.TSRUN_SHIM ? { shimLibrary: env.TSRUN_SHIM } : {}),
    ...(env.TSRUN_TWO_STAGE === '1' ? { twoStage: true } : {}),
    ...(quick !== undefined ? { quickReportMs: quick } : {}),
  };
}

/** Sets the library's settings from the environment of this command. */
export function applyEnvironment(env: NodeJS.ProcessEnv): void {
  configureSpawn(spawnSettingsFrom(env));
}
