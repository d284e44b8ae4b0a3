// The host side of caller-mounts.ts: snapshots of this process's mount table (the caller's, which a
// container without a mount namespace shares) and the unmounts themselves.
import { readFileSync, realpathSync } from 'node:fs';
import { parseMountInfo, type MountInfoEntry } from '../host/mountinfo.js';
import { umountMount } from '../native/shim.js';
import type { Plan } from '../abi/steps.js';
import { mountsInCallerNamespace, mountsToRemove, mountsUnder, newMounts, type CallerMounts } from './caller-mounts.js';

function mountTable(): MountInfoEntry[] {
  return parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/**
 * Before clone: what is already mounted under the rootfs, or undefined when the plan's mounts stay in
 * a mount namespace of the container's own (nothing to track). Warns once that the caller's mount
 * table is about to change.
 */
export function beginCallerMounts(plan: Plan, rootfs: string, warn: (m: string) => void): CallerMounts | undefined {
  if (!mountsInCallerNamespace(plan)) return undefined;
  // mountinfo spells paths without symlinks; the bundle's path may go through one.
  const canonical = realpathSync(rootfs);
  warn(`linux.namespaces has no mount namespace: the container's mounts go into the caller's mount table, under ${canonical}; \`tsrun delete\` (or the end of a foreground \`run\`) removes exactly those`);
  return { rootfs: canonical, before: mountsUnder(mountTable(), canonical) };
}

/** Once the plan has run (the process waits for `start`): the mounts it made. */
export function finishCallerMounts(t: CallerMounts): CallerMounts {
  return { ...t, created: newMounts(t.before, mountsUnder(mountTable(), t.rootfs)) };
}

/**
 * Unmounts (MNT_DETACH) the mounts tsrun made, children first, skipping those already gone. An
 * unmount reaches the copies that mount propagation made in peer and slave namespaces the same way
 * the mount did. Mounts under the rootfs that tsrun did not make (made later by the container's
 * processes, or stacked on one of tsrun's) are left in place and named in a warning.
 */
export function removeCallerMounts(t: CallerMounts, warn: (m: string) => void): void {
  for (const m of mountsToRemove(t, mountTable())) umountMount(m.path, m.id);
  const left = newMounts(t.before, mountsUnder(mountTable(), t.rootfs));
  if (left.length > 0) {
    warn(`mounts left under ${t.rootfs} (made after set-up by the container's processes, or under one of theirs): ${left.map((m) => m.path).join(', ')}`);
  }
}
