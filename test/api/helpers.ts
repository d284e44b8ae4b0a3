// Shared by the library's tests: a state root of their own (other helpers' containers never count),
// the sample bundle, and the check that a container left nothing behind.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroupHost } from '../../src/cgroups/index.js';
import { SAMPLE_BUNDLE, SAMPLE_ROOTFS, cannotRunContainers } from '../helpers/bundle.js';

export { SAMPLE_BUNDLE, SAMPLE_ROOTFS };
export const skipReason = cannotRunContainers();

export function testRoot(): { root: string; remove(): void } {
  const root = mkdtempSync('/run/tsrun-api-test-');
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

function cgroupDir(id: string): string | undefined {
  try { return join(detectCgroupHost().mountPoint, 'tsrun', id); } catch { return undefined; }
}

/** What of container `id` still exists: its state dir, its cgroup. */
export function leftovers(root: string, id: string): string[] {
  const left: string[] = [];
  if (existsSync(join(root, id))) left.push(`state dir ${join(root, id)}`);
  const cg = cgroupDir(id);
  if (cg && existsSync(cg)) left.push(`cgroup ${cg}`);
  return left;
}

export function containersIn(root: string): string[] {
  return existsSync(root) ? readdirSync(root) : [];
}

/** The effective capability set of the process running `grep CapEff /proc/self/status`, as a bigint. */
export function capEff(statusLine: string): bigint {
  const m = /CapEff:\s*([0-9a-f]+)/.exec(statusLine);
  if (!m) throw new Error(`no CapEff in ${statusLine}`);
  return BigInt(`0x${m[1]}`);
}
