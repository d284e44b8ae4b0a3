// Reads everything the probes need from the running host, and nothing else: the probes stay pure
// functions of these facts, so tests can feed them captured samples from other kinds of hosts.
import { readFile, readdir, stat } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { findCgroup2Mount } from './cgroup-layout.js';
import { parseMountInfo } from '../host/mountinfo.js';
import { NAMESPACE_TYPES, type NamespaceType } from './namespaces.js';
import type { DeviceNode } from './pty.js';

export interface HostFacts {
  /** `uname -r`. */
  kernelRelease: string;
  euid: number;
  /** Entries of /proc/self/ns. */
  nsEntries: string[];
  /** /proc/sys/user/max_<type>_namespaces, for the types that have one. */
  maxNamespaces: Partial<Record<NamespaceType, string>>;
  unprivilegedUsernsClone?: string;
  apparmorRestrictUnprivilegedUserns?: string;
  /** /proc/self/mountinfo ('' when unreadable: then every mount-based probe reports missing). */
  mountinfo: string;
  /** `<cgroup2 mount>/cgroup.controllers`. */
  v2Controllers?: string;
  /** /proc/cgroups. */
  procCgroups?: string;
  /** /proc/filesystems. */
  filesystems: string;
  /** /proc/self/status. */
  status: string;
  capLastCap?: string;
  uidMap?: string;
  ptmx?: DeviceNode;
  seccompActions?: string;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Splits a device number the way glibc's major()/minor() do. */
export function splitDeviceNumber(rdev: number): { major: number; minor: number } {
  const high = Math.floor(rdev / 2 ** 32);
  return {
    major: ((rdev >>> 8) & 0xfff) | (high & ~0xfff),
    minor: (rdev & 0xff) | ((rdev >>> 12) & 0xfff00),
  };
}

async function statDevice(path: string): Promise<DeviceNode | undefined> {
  try {
    const s = await stat(path);
    const kind = s.isCharacterDevice() ? 'char' : s.isBlockDevice() ? 'block' : 'other';
    return { kind, ...splitDeviceNumber(s.rdev) };
  } catch {
    return undefined;
  }
}

async function readMaxNamespaces(): Promise<Partial<Record<NamespaceType, string>>> {
  const limits: Partial<Record<NamespaceType, string>> = {};
  await Promise.all(NAMESPACE_TYPES.map(async (type) => {
    const text = await readText(`/proc/sys/user/max_${type}_namespaces`);
    if (text !== undefined) limits[type] = text;
  }));
  return limits;
}

export async function gatherHostFacts(): Promise<HostFacts> {
  const mountinfo = (await readText('/proc/self/mountinfo')) ?? '';
  const v2Mount = findCgroup2Mount(parseMountInfo(mountinfo));
  const [nsEntries, maxNamespaces, rest] = await Promise.all([
    readdir('/proc/self/ns').catch(() => [] as string[]),
    readMaxNamespaces(),
    Promise.all([
      readText('/proc/sys/kernel/unprivileged_userns_clone'),
      readText('/proc/sys/kernel/apparmor_restrict_unprivileged_userns'),
      v2Mount ? readText(join(v2Mount.mountPoint, 'cgroup.controllers')) : Promise.resolve(undefined),
      readText('/proc/filesystems'),
      readText('/proc/self/status'),
      readText('/proc/sys/kernel/cap_last_cap'),
      readText('/proc/self/uid_map'),
      readText('/proc/sys/kernel/seccomp/actions_avail'),
      statDevice('/dev/ptmx'),
      readText('/proc/cgroups'),
    ] as const),
  ]);
  const [usernsClone, apparmorUserns, v2Controllers, filesystems, status, capLastCap, uidMap, seccompActions, ptmx, procCgroups] = rest;
  return {
    kernelRelease: release(),
    euid: process.geteuid?.() ?? -1,
    nsEntries,
    maxNamespaces,
    unprivilegedUsernsClone: usernsClone,
    apparmorRestrictUnprivilegedUserns: apparmorUserns,
    mountinfo,
    v2Controllers,
    procCgroups,
    filesystems: filesystems ?? '',
    status: status ?? '',
    capLastCap,
    uidMap,
    ptmx,
    seccompActions,
  };
}
