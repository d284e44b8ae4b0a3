// Runs the hot path of `tsrun run` once while the startup snapshot is built, on throwaway inputs in a
// temporary directory, so that V8 compiles those functions then and the snapshot keeps their bytecode.
//
// Why: V8 compiles a function the first time it is called. A function the build never called is
// parsed and compiled again by every `tsrun` start (~15-25 µs each; `run` called ~150 of them, about
// 2 ms of each run). bench/lazy-functions.sh lists what a run still compiles.
//
// The rule: nothing here may leave state behind in the heap that a later start would inherit (a
// cached path, a loaded library, a listener, a timer), nor touch the machine outside its temp dir.
// So it stops where the real path makes a syscall through the shim (clone, bpf), reads the host
// (/proc/self/mountinfo, the real cgroup tree) or arms a signal or timer; those parts compile at
// run time. Module-level caches filled here (packageRoot) must not be: packageRoot is never called.
import { closeSync, mkdirSync, mkdtempSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandEntry, CommandModule } from './command.js';
import { runCli } from './run-cli.js';
import { parseCommandArgs } from './parse-args.js';
import { resolveBundleAndId } from './bundle-arg.js';
import { defaultSpec } from '../oci/default-spec.js';
import { loadBundle } from '../oci/bundle.js';
import { encodePlan } from '../native/encode-plan.js';
import { decodeWaitStatus } from '../native/errno.js';
import { describeStep } from '../plan/describe.js';
import { applyCgroup, detectCgroupHost } from '../cgroups/index.js';
import { deviceProgram } from '../cgroups/devices/program.js';
import { planContainer, planContainerCgroup } from '../container/create.js';
import { removeContainer } from '../container/delete.js';
import { StateStore, type ContainerRecord } from '../state/store.js';
import { readProcStat } from '../state/status.js';
import { utcTimestamp } from '../state/timestamp.js';
import { OCI_VERSION } from '../version.js';

/** A mountinfo of a hybrid host whose cgroup2 mount is `cgroupRoot`. */
function fakeMountInfo(cgroupRoot: string): string {
  return [
    '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
    '30 22 0:26 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755',
    `31 30 0:27 / ${cgroupRoot} rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate`,
    '32 30 0:28 / /sys/fs/cgroup/pids rw,nosuid shared:11 - cgroup cgroup rw,pids',
  ].join('\n');
}

async function warmCli(run: CommandModule<any>, root: string): Promise<void> {
  parseCommandArgs(run, ['--bundle', '/warm-up', 'id'], 'run');
  resolveBundleAndId(undefined, join(root, 'bundle'));
  // The router, with a table whose one command does nothing.
  const noop: CommandModule<any> = { ...run, handler: async () => 0 };
  const table: CommandEntry[] = [{ name: 'run', describe: '', load: async () => noop }];
  await runCli(['--root', join(root, 'state'), 'run', '--bundle', join(root, 'bundle'), 'warm-up'], table);
  process.exitCode = undefined;
}

async function warmContainer(root: string, bundleDir: string): Promise<void> {
  const bundle = loadBundle(bundleDir);
  const spec = bundle.spec;

  const cgroupRoot = join(root, 'cgroup');
  mkdirSync(cgroupRoot);
  writeFileSync(join(cgroupRoot, 'cgroup.controllers'), 'hugetlb\n');
  const host = detectCgroupHost(fakeMountInfo(cgroupRoot));
  const cgroupPlan = planContainerCgroup(spec, 'warm-up', () => {}, () => host)!;
  const plan = planContainer(bundle, { foreground: true, startGate: 'caller', cgroup2Mount: cgroupRoot, keyring: 'warm-up' });
  encodePlan({ ...plan, waitForParent: false }, { trace: false });
  plan.steps.forEach(describeStep);
  if (cgroupPlan.deviceRules) deviceProgram(cgroupPlan.deviceRules); // compiled once here, reused by every run of a default-like config

  const cgroup = applyCgroup(cgroupPlan, undefined, { deferDevices: true });
  closeSync(cgroup.openDirFd());
  cgroup.oomKilled();

  const store = new StateStore(join(root, 'state'));
  store.createDir('warm-up');
  const record: ContainerRecord = {
    ociVersion: OCI_VERSION, id: 'warm-up', pid: process.pid, pidStartTime: readProcStat(process.pid)?.startTime ?? '',
    bundle: bundle.dir, rootfs: bundle.rootfs, created: utcTimestamp(), started: false, config: spec,
  };
  store.write(record);
  store.read('warm-up');
  decodeWaitStatus(0);
  cgroup.removeIfEmpty();
  await removeContainer(store, { ...record, started: true });
  rmdirSync(store.root);
  unlinkSync(join(cgroupRoot, 'cgroup.controllers'));
  rmdirSync(cgroupRoot);
}

export async function warmUp(run: CommandModule<any>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-snapshot-'));
  const bundleDir = join(root, 'bundle');
  mkdirSync(join(bundleDir, 'rootfs'), { recursive: true });
  writeFileSync(join(bundleDir, 'config.json'), JSON.stringify(defaultSpec({ terminal: false })));
  try {
    await warmCli(run, root);
    await warmContainer(root, bundleDir);
  } finally {
    unlinkSync(join(bundleDir, 'config.json'));
    rmdirSync(join(bundleDir, 'rootfs'));
    rmdirSync(bundleDir);
    rmdirSync(root);
  }
}
