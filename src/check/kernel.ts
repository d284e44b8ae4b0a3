// Kernel version and the process-management features that depend on it. A version check is the
// honest probe here: pidfd_open and clone3 are syscalls, and trying them needs native code.
import { item, withFacts, type CheckItem } from './report.js';

export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
}

/** `6.1.0-13-amd64` → 6.1.0; undefined when the release does not start with a version. */
export function parseKernelRelease(release: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** True when `v` is at least major.minor. An unknown version is treated as new enough. */
export function kernelAtLeast(v: KernelVersion | undefined, major: number, minor: number): boolean {
  if (!v) return true;
  return v.major > major || (v.major === major && v.minor >= minor);
}

export function formatKernelVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

export function probeKernel(release: string): CheckItem[] {
  const v = parseKernelRelease(release);
  const items: CheckItem[] = [];
  if (!v) {
    items.push(item('kernel', 'version', 'warn', `cannot parse kernel release "${release}"; features are assumed present`));
  } else {
    items.push(withFacts(item('kernel', 'version', 'ok', `Linux ${formatKernelVersion(v)} (uname -r: ${release})`), { release, version: formatKernelVersion(v) }));
  }
  const fix = 'use a kernel >= 5.7 (Debian 11 and later ship one)';
  items.push(kernelAtLeast(v, 5, 3)
    ? item('kernel', 'pidfd', 'ok', 'pidfd_open (5.3): tsrun holds a file descriptor for the container process, so it can never signal a recycled PID by mistake')
    : item('kernel', 'pidfd', 'warn', 'no pidfd_open (needs 5.3): tsrun falls back to plain PIDs, which the kernel may reuse once the container exits', fix));
  items.push(kernelAtLeast(v, 5, 3)
    ? item('kernel', 'clone3', 'ok', 'clone3 (5.3): the extensible clone syscall, taking all namespace flags in one struct')
    : item('kernel', 'clone3', 'warn', 'no clone3 (needs 5.3): tsrun uses clone() with the same namespace flags', fix));
  items.push(kernelAtLeast(v, 5, 7)
    ? item('kernel', 'CLONE_INTO_CGROUP', 'ok', 'clone3(CLONE_INTO_CGROUP) (5.7): the container process is born inside its v2 cgroup, so even its set-up is accounted')
    : item('kernel', 'CLONE_INTO_CGROUP', 'warn', 'no CLONE_INTO_CGROUP (needs 5.7): tsrun writes the PID to cgroup.procs while the child waits, so a moment of set-up runs outside the limits', fix));
  return items;
}
