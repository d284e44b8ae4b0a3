// Shared pieces of the cgroup integration tests (host and VM lane): what this host offers, cgroups and
// children that are always cleaned up, and a way to start a shell that waits until it has been moved.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { applyCgroup, detectCgroupHost, planCgroup, type CgroupHandle, type CgroupHost } from '../../../src/cgroups/index.js';
import type { Resources, Spec } from '../../../src/oci/types.js';

export const isRoot = process.getuid?.() === 0;

/** Host facts, or undefined when cgroup v2 is not mounted (then every test here skips). */
export const host: CgroupHost | undefined = (() => {
  try {
    return detectCgroupHost();
  } catch {
    return undefined;
  }
})();

/** Controllers among `needed` that this host's v2 root lacks. */
export function missingControllers(needed: readonly string[]): string[] {
  return needed.filter((c) => !(host?.controllers ?? []).includes(c));
}

/** A test-name suffix explaining a skip, pointing at the VM lane where pure cgroup v2 is available. */
export function skipNote(needed: readonly string[]): string {
  if (!isRoot) return ' [skipped: needs root]';
  if (host === undefined) return ' [skipped: no cgroup v2 mounted]';
  const missing = missingControllers(needed);
  if (missing.length === 0) return '';
  return ` [skipped: cgroup v2 controller(s) ${missing.join(', ')} not in ${host.mountPoint}/cgroup.controllers (has: ${host.controllers.join(' ') || 'none'}); runs in make test-vm]`;
}

export const cannotRun = (needed: readonly string[] = []): boolean => skipNote(needed) !== '';

/** A name unique to this test run; "tsrun-test" marks anything left behind as ours. */
export const testName = (what: string): string => `tsrun-test-${what}-${process.pid}`;

export const specWith = (resources: Resources, extra: Partial<NonNullable<Spec['linux']>> = {}): Spec => ({
  ociVersion: '1.2.0',
  linux: { resources, ...extra },
});

const handles: CgroupHandle[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

/** Plans and applies a cgroup at /<name> (absolute, directly under the v2 root), registered for cleanup. */
export function makeCgroup(what: string, resources: Resources = {}, extra: Partial<NonNullable<Spec['linux']>> = {}): CgroupHandle {
  if (host === undefined) throw new Error('no cgroup v2');
  const spec = specWith(resources, { cgroupsPath: `/${testName(what)}`, ...extra });
  return track(applyCgroup(planCgroup(spec, testName(what), host)));
}

export function track(handle: CgroupHandle): CgroupHandle {
  handles.push(handle);
  return handle;
}

/** afterEach: kill every child and every process in our cgroups, then remove the cgroups. */
export async function cleanUp(): Promise<void> {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const handle of handles.splice(0).reverse()) {
    try {
      await handle.kill(5000);
    } catch {
      // already removed by the test
    }
    await handle.destroy(5000);
  }
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Shell {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  stdout(): string;
  stderr(): string;
  finished: Promise<Finished>;
}

/**
 * Starts `sh -c script`, moves it into the cgroup, and only then lets the script run (it first waits for
 * a line on stdin), so every process the script starts is born inside the cgroup.
 */
export function shellIn(cgroup: CgroupHandle, script: string): Shell {
  const child = spawn('sh', ['-c', `read _go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  if (child.pid === undefined) throw new Error('spawn sh failed');
  cgroup.addProcess(child.pid);
  child.stdin.write('go\n');
  return { child, pid: child.pid, stdout: () => out, stderr: () => err, finished };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until predicate() holds, checking every 10 ms. */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}
