// Rules across the fields of a config whose shape validate.ts has checked: namespaces against what
// needs them (hostname, sysctls, masked paths…), id maps as the kernel will take them, and what
// execve(2) can carry. Each throws Invalid naming the field. Pure, except for what `callerNamespaces`
// answers about namespaces joined by path.
import type { CallerNamespaces } from './caller-namespaces.js';
import { MAX_U32, fail, fieldPath } from './checks.js';
import type { IdMapping, Namespace, NamespaceType, Process, Rlimit, Spec } from './types.js';

export function checkRules(spec: Spec, callerNamespaces: CallerNamespaces | undefined): void {
  const namespaces = spec.linux?.namespaces ?? [];
  checkNoDuplicateNamespaces(namespaces);
  const view = namespaceView(namespaces, callerNamespaces);
  checkIdMappings(spec, namespaces);
  checkUtsNames(spec, view);
  checkSysctls(spec, view);
  checkMountTableChanges(spec, view);
  checkNoDuplicateRlimits(spec.process?.rlimits ?? []);
  if (spec.process) checkExecArguments(spec.process);
}

function checkNoDuplicateNamespaces(namespaces: Namespace[]): void {
  const firstIndex = new Map<NamespaceType, number>();
  namespaces.forEach((ns, i) => {
    const earlier = firstIndex.get(ns.type);
    if (earlier !== undefined) fail(`linux.namespaces[${i}].type`, `duplicate namespace "${ns.type}" (also linux.namespaces[${earlier}])`);
    firstIndex.set(ns.type, i);
  });
}

function checkNoDuplicateRlimits(rlimits: Rlimit[]): void {
  const firstIndex = new Map<string, number>();
  rlimits.forEach((limit, i) => {
    const earlier = firstIndex.get(limit.type);
    if (earlier !== undefined) fail(`process.rlimits[${i}].type`, `duplicate rlimit "${limit.type}" (also process.rlimits[${earlier}])`);
    firstIndex.set(limit.type, i);
  });
}

// ---------------------------------------------------------------------------------------------
// Namespaces: which ones the container shares with the caller.

/**
 * How the container's namespaces relate to the caller's: for each type, absent (shared), new, or
 * joined by path — and then whether that path is the caller's own namespace (shared after all).
 */
interface NamespaceView {
  /** The entry of `type` and its index, when the config lists one. */
  entry(type: NamespaceType): { ns: Namespace; index: number } | undefined;
  /** The entry joins, by path, the namespace the caller is in. */
  joinsCallers(type: NamespaceType): boolean;
}

function namespaceView(namespaces: Namespace[], caller: CallerNamespaces | undefined): NamespaceView {
  const callers = new Set<NamespaceType>();
  namespaces.forEach((ns, i) => {
    if (ns.path === undefined || caller === undefined) return;
    const field = `linux.namespaces[${i}].path`;
    const joined = caller.identify(ns.type, ns.path);
    if (joined.kind === 'invalid') fail(field, joined.problem);
    if (joined.kind !== 'callers') return;
    // tsrun sets up a mount namespace it was given as the container's own: it makes `/` a slave and
    // pivot_roots, which in the caller's namespace would move every process in it into the rootfs.
    if (ns.type === 'mount') fail(field, `${ns.path} is the caller's own mount namespace, which tsrun would pivot_root into the rootfs; leave {"type": "mount"} out to share the caller's mount table`);
    if (ns.type === 'user') fail(field, `${ns.path} is the caller's own user namespace, which setns(2) cannot join; leave {"type": "user"} out to share it`);
    callers.add(ns.type);
  });
  return {
    entry(type) {
      const index = namespaces.findIndex((ns) => ns.type === type);
      return index < 0 ? undefined : { ns: namespaces[index]!, index };
    },
    joinsCallers: (type) => callers.has(type),
  };
}

/** Why a setting that needs a private `type` namespace cannot have one, or undefined when it has. */
function sharedNamespaceProblem(view: NamespaceView, type: NamespaceType, what: string): string | undefined {
  const found = view.entry(type);
  if (found === undefined) return `requires a private ${type} namespace in linux.namespaces (add {"type": "${type}"}): without one ${what}`;
  if (view.joinsCallers(type)) return `linux.namespaces[${found.index}] joins the caller's ${type} namespace (${found.ns.path}): ${what}; give the container a ${type} namespace of its own`;
  return undefined;
}

// Setting hostname/domainname outside a uts namespace of the container's own would rename the host
// (or another container).
function checkUtsNames(spec: Spec, view: NamespaceView): void {
  for (const key of ['hostname', 'domainname'] as const) {
    const value = spec[key];
    if (value === undefined || value === '') continue;
    if (view.entry('uts') === undefined) fail(key, 'can only be set with a new uts namespace (add {"type": "uts"} to linux.namespaces)');
    const problem = sharedNamespaceProblem(view, 'uts', `setting ${key} would rename the caller`);
    if (problem) fail(key, problem);
  }
}

/** The namespace that isolates a sysctl key, or undefined if it is global to the host. */
export function sysctlNamespace(key: string): NamespaceType | undefined {
  const name = key.replaceAll('/', '.');
  if (name.startsWith('kernel.msg') || name.startsWith('kernel.shm') || name === 'kernel.sem' || name === 'kernel.sem_next_id') return 'ipc';
  if (name.startsWith('fs.mqueue.')) return 'ipc';
  if (name.startsWith('net.')) return 'network';
  if (name === 'kernel.hostname' || name === 'kernel.domainname') return 'uts';
  return undefined;
}

// A sysctl is only safe to write when it belongs to a namespace the container does not share with
// the caller; any other key would change the whole machine (runc applies the same rules, and also
// compares a joined network namespace with its own).
function checkSysctls(spec: Spec, view: NamespaceView): void {
  for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
    const path = fieldPath('linux.sysctl', key);
    const needed = sysctlNamespace(key);
    if (needed === undefined) fail(path, 'is not isolated by any namespace, so a container may not set it');
    const problem = sharedNamespaceProblem(view, needed, 'the value would be written to the caller\'s');
    if (problem) fail(path, problem);
    if (key.replaceAll('/', '.') === 'kernel.hostname' && spec.hostname) fail(path, 'conflicts with the hostname field; set only one');
  }
}

// Without a mount namespace of its own the container's mounts go into the caller's mount table, and
// `delete` removes exactly the new mounts under the rootfs. What would act elsewhere, or on a mount
// tsrun did not make, could not be undone: masked and read-only paths are applied after chroot, where
// /proc/<pid>/root/… names the host's files; a remount changes a mount that was there before (runc
// refuses masked and read-only paths without a mount namespace too).
function checkMountTableChanges(spec: Spec, view: NamespaceView): void {
  if (view.entry('mount') !== undefined) return;
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    if ((spec.linux?.[key]?.length ?? 0) === 0) continue;
    fail(`linux.${key}`, 'needs a private mount namespace ({"type": "mount"} in linux.namespaces): without one the paths would be changed in the caller\'s mount table, where /proc/<pid>/root/… reaches the host\'s files, and delete would leave them');
  }
  (spec.mounts ?? []).forEach((m, i) => {
    if (!(m.options ?? []).includes('remount')) return;
    fail(`mounts[${i}].options`, '"remount" changes a mount tsrun did not make, so it needs a private mount namespace ({"type": "mount"} in linux.namespaces): delete could not undo it in the caller\'s mount table');
  });
}

// ---------------------------------------------------------------------------------------------
// Id maps, as /proc/<pid>/{uid,gid}_map takes them.

// Id maps are written to /proc/<pid>/{uid,gid}_map of a user namespace the runtime creates; without
// one there is nothing to write them to. A new user namespace without maps would run everything as
// the overflow id (nobody), which is never what a config means.
function checkIdMappings(spec: Spec, namespaces: Namespace[]): void {
  const userNs = namespaces.find((ns) => ns.type === 'user');
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    const maps = spec.linux?.[key];
    if (maps !== undefined && maps.length > 0 && userNs === undefined) {
      fail(`linux.${key}`, 'requires a user namespace in linux.namespaces');
    }
    if (userNs !== undefined && userNs.path === undefined && (maps === undefined || maps.length === 0)) {
      fail(`linux.${key}`, 'is required when a new user namespace is created');
    }
    if (maps) checkIdRanges(maps, `linux.${key}`);
  }
  (spec.mounts ?? []).forEach((m, i) => {
    if (m.uidMappings) checkIdRanges(m.uidMappings, `mounts[${i}].uidMappings`);
    if (m.gidMappings) checkIdRanges(m.gidMappings, `mounts[${i}].gidMappings`);
  });
}

/** The kernel refuses (EINVAL) a map whose ranges wrap past 2^32-1 or overlap, inside or outside. */
function checkIdRanges(maps: IdMapping[], field: string): void {
  maps.forEach((m, i) => {
    for (const side of ['containerID', 'hostID'] as const) {
      if (m[side] + m.size > MAX_U32) fail(`${field}[${i}]`, `${side} + size must be at most ${MAX_U32}, got ${m[side] + m.size}`);
    }
    for (let j = 0; j < i; j++) {
      const other = maps[j]!;
      for (const side of ['containerID', 'hostID'] as const) {
        if (m[side] < other[side] + other.size && other[side] < m[side] + m.size) {
          fail(`${field}[${i}]`, `its ${side} range overlaps ${field}[${j}]`);
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// What execve(2) can carry.

/** MAX_ARG_STRLEN: one argument or environment string, with its NUL. */
const MAX_ARG_STRLEN = 32 * 4096;
/** The kernel's cap on arguments + environment + their pointers: 3/4 of _STK_LIM (8 MiB)… */
const MAX_EXEC_BYTES = 6 * 1024 * 1024;
/** …or a quarter of RLIMIT_STACK, but never below ARG_MAX (32 pages). */
const ARG_MAX = 32 * 4096;
/** The plan gives a step at most 65535 strings; the exec step has the program's path too. */
export const MAX_EXEC_STRINGS = 65534;

/** The limit execve applies to arguments and environment under this config's RLIMIT_STACK, if it sets one. */
function execByteLimit(proc: Process): number {
  const stack = proc.rlimits?.find((r) => r.type === 'RLIMIT_STACK');
  if (stack === undefined) return MAX_EXEC_BYTES;
  return Math.max(Math.min(MAX_EXEC_BYTES, Math.floor(stack.soft / 4)), ARG_MAX);
}

// An argument list execve refuses (E2BIG) would fail only at `start`, after everything was made; so
// would one the plan cannot carry. The count and size are known now.
function checkExecArguments(proc: Process): void {
  const args = proc.args ?? [];
  const env = proc.env ?? [];
  if (args.length + env.length > MAX_EXEC_STRINGS) {
    fail('process.env', `has ${env.length} entries; with the ${args.length} of process.args that is more than the ${MAX_EXEC_STRINGS} strings tsrun passes to execve`);
  }
  let total = 0;
  for (const [list, name] of [[args, 'process.args'], [env, 'process.env']] as const) {
    list.forEach((s, i) => {
      const bytes = Buffer.byteLength(s) + 1;
      if (bytes > MAX_ARG_STRLEN) fail(`${name}[${i}]`, `is ${bytes - 1} bytes; execve takes at most ${MAX_ARG_STRLEN - 1} per string (MAX_ARG_STRLEN)`);
      total += bytes + 8;
    });
  }
  const limit = execByteLimit(proc);
  if (total > limit) {
    fail(env.length > 0 ? 'process.env' : 'process.args', `process.args and process.env take ${total} bytes with their pointers; execve takes at most ${limit} (a quarter of RLIMIT_STACK, at most 6 MiB)`);
  }
}
