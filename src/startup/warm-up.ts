// Rehearses `tsrun run` once while the startup snapshot is built, so that V8 compiles its code then
// and the snapshot keeps the bytecode.
//
// Why: V8 compiles a function the first time it is called. A function the build never called is
// parsed and compiled again by every `tsrun` start: before this rehearsal a run of /bin/true compiled
// ~150 of tsrun's functions and ~100 of Node's (fs, timers), several ms of each run.
// `bench/lazy-functions.sh` lists what a run still compiles.
//
// The rehearsal is the real code (router, bundle, planning, cgroup, state, parent side of the spawn,
// wait, removal) on a throwaway bundle, state root and cgroup tree in a temporary directory, with a
// stand-in for the native shim that plays the kernel's part (rehearsal-shim.ts). The
// rule: nothing may stay behind in the heap that a later start would inherit (a cached path, a
// loaded library, a listener), nor on the machine outside the temp dir. So koffi and the shim are
// never loaded, /proc/self/mountinfo and the real cgroup tree are never read, packageRoot() is never
// called (it caches), and no timer or immediate is armed: Node's timer list keeps its next expiry in
// the heap, in build-time clock units, and a start whose first timer expires later than that never
// starts libuv's timer (a foreground wait of a slow command then ended at once). withoutTimers makes
// that a build error.
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandEntry, CommandModule } from '../cli/command.js';
import { runCli } from '../cli/run-cli.js';
import { parseCommandArgs } from '../cli/parse-args.js';
import { resolveBundleAndId } from '../cli/bundle-arg.js';
import { defaultSpec } from '../oci/default-spec.js';
import { loadBundle } from '../oci/bundle.js';
import { describeStep } from '../abi/describe-step.js';
import { detectCgroupHost, loadCgroup } from '../cgroups/index.js';
import { runContainer } from '../container/run.js';
import { planBundle } from '../plan/bundle-plan.js';
import { substitute } from '../native/shim.js';
import { configureSpawn } from '../native/spawn-settings.js';
import { rehearsalShim } from './rehearsal-shim.js';

const ID = 'warm-up';

/** A hybrid host's mountinfo, with its cgroup2 mount at `cgroupRoot`. */
function mountInfoWithCgroup2At(cgroupRoot: string): string {
  return [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '30 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
    `31 30 0:27 / ${cgroupRoot} rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate`,
    '32 30 0:28 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,pids',
  ].join('\n');
}

/** The router and the option parser, with a table whose one command does nothing. */
async function warmCli(run: CommandModule<any>, root: string, bundleDir: string): Promise<void> {
  resolveBundleAndId(undefined, bundleDir);
  const args = parseCommandArgs(run, ['--bundle', bundleDir, ID], 'run');
  run.needsFullBundle?.(args);
  const table: CommandEntry[] = [{ name: 'run', describe: '', load: async () => ({ ...run, handler: async () => 0 }) }];
  // runCli sets the spawn settings from the build's environment: the settings from before go back.
  const putBack = configureSpawn({});
  try {
    await runCli(['--root', join(root, 'state'), 'run', '--bundle', bundleDir, ID], table);
  } finally {
    putBack();
  }
  process.exitCode = undefined;
}

/** `run` of the bundle against the stand-in shim, with a cgroup v2 "hierarchy" that is a plain directory. */
async function rehearseRun(root: string, bundleDir: string): Promise<void> {
  const cgroupRoot = join(root, 'cgroup');
  mkdirSync(cgroupRoot);
  writeFileSync(join(cgroupRoot, 'cgroup.controllers'), 'hugetlb\n');
  const host = detectCgroupHost(mountInfoWithCgroup2At(cgroupRoot));
  const restore = substitute(rehearsalShim());
  // spawn names tsrun-init to the shim, and would look for it in the package (packageRoot caches);
  // the stand-in ignores the name.
  const restoreSettings = configureSpawn({ initProgram: 'rehearsal' });
  try {
    const result = await runContainer({ id: ID, root: join(root, 'state'), bundle: bundleDir, cgroupHost: () => host, warn: () => {} });
    if (result.exitCode !== 0) throw new Error(`snapshot warm-up: the rehearsed run exited ${result.exitCode}`);
  } finally {
    restoreSettings();
    restore();
  }
  // A plain directory is no cgroup: removeContainer found no cgroup.procs and left it. This is the
  // part it skipped (a real cgroup's files go with its rmdir; these must go first).
  const dir = join(cgroupRoot, 'tsrun', ID);
  writeFileSync(join(dir, 'cgroup.procs'), '');
  const cgroup = loadCgroup(dir, join(cgroupRoot, 'tsrun'));
  cgroup.oomKilled();
  unlinkSync(join(dir, 'cgroup.procs'));
  // Removes the container's directory and the parent tsrun made for it.
  if (!cgroup.removeIfEmpty() || existsSync(join(cgroupRoot, 'tsrun'))) throw new Error(`snapshot warm-up: ${dir} and its parent were not removed`);
  unlinkSync(join(cgroupRoot, 'cgroup.controllers'));
  rmdirSync(cgroupRoot);
  rmdirSync(join(root, 'state'));
}

/** Runs fn with setTimeout, setInterval and setImmediate throwing (see the top of this file). */
async function withoutTimers(fn: () => Promise<void>): Promise<void> {
  const saved = { setTimeout, setInterval, setImmediate };
  const refuse = (name: string) => (): never => {
    throw new Error(`snapshot warm-up: ${name} called while the snapshot is built; Node's timer state would go into it (see src/startup/warm-up.ts)`);
  };
  Object.assign(globalThis, { setTimeout: refuse('setTimeout'), setInterval: refuse('setInterval'), setImmediate: refuse('setImmediate') });
  try {
    await fn();
  } finally {
    Object.assign(globalThis, saved);
  }
}

export async function warmUp(run: CommandModule<any>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-snapshot-'));
  const bundleDir = join(root, 'bundle');
  mkdirSync(join(bundleDir, 'rootfs'), { recursive: true });
  // An absolute cgroupsPath, as podman gives, takes the longer way through resolveCgroupPath.
  const spec = defaultSpec({ terminal: false });
  writeFileSync(join(bundleDir, 'config.json'), JSON.stringify({ ...spec, linux: { ...spec.linux, cgroupsPath: `/tsrun/${ID}` } }));
  try {
    await withoutTimers(async () => {
      await warmCli(run, root, bundleDir);
      await rehearseRun(root, bundleDir);
    });
    // Error messages and --trace describe steps; the rehearsal described none.
    planBundle(loadBundle(bundleDir), { foreground: true, startGate: 'caller', cgroup2Mount: '/sys/fs/cgroup' }).steps.forEach(describeStep);
  } finally {
    unlinkSync(join(bundleDir, 'config.json'));
    rmdirSync(join(bundleDir, 'rootfs'));
    rmdirSync(bundleDir);
    rmdirSync(root);
  }
}
