// Validates a parsed config.json before anything touches the system. Two passes:
//  1. shape: every field tsrun reads (src/oci/types.ts) has the right JSON type, range and format;
//  2. rules: cross-field constraints a runtime must enforce (namespaces vs hostname, sysctl, id maps…).
// The first problem found is thrown as a ConfigError whose field is a JSON path such as
// `linux.namespaces[2].type`, so a user can find the offending line. Unknown properties are ignored,
// as the runtime-spec requires. Pure, except for what `callerNamespaces` answers (which namespaces
// joined by path are the caller's own): given by `create`, left out where the config was checked before.
import { ConfigError } from '../errors.js';
import type { CallerNamespaces } from './caller-namespaces.js';
import { capabilityNameHint, isCapabilityName } from './capabilities.js';
import { isRlimitName } from './rlimits.js';
import type { Namespace, NamespaceType, Rlimit, Spec } from './types.js';

/** Thrown inside the validator; turned into a ConfigError (with the file name) at the boundary. */
class Invalid extends Error {
  constructor(readonly field: string, readonly problem: string) {
    super(`${field}: ${problem}`);
  }
}

export interface ValidateOptions {
  /** Tells which namespaces joined by path are the caller's own; without it, every join counts as private. */
  callerNamespaces?: CallerNamespaces;
}

/** Checks the parsed config.json and returns it typed, or throws ConfigError(fieldPath, problem, file). */
export function validateSpec(raw: unknown, file?: string, options: ValidateOptions = {}): Spec {
  try {
    checkSpecShape(raw, '');
    const spec = raw as Spec;
    checkRules(spec, options.callerNamespaces);
    return spec;
  } catch (err) {
    // The document itself has the empty path; name it so the message does not start with ": ".
    if (err instanceof Invalid) throw new ConfigError(err.field || 'config', err.problem, file);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Small checking combinators. A Check looks at one JSON value found at `path` and throws Invalid.

type Check = (value: unknown, path: string) => void;
type JsonObject = Record<string, unknown>;

function fail(path: string, problem: string): never {
  throw new Invalid(path, problem);
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** `a.b`, or `a["net.ipv4.ip_forward"]` when the key is not a plain identifier. */
export function fieldPath(parent: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

function expectObject(v: unknown, path: string): asserts v is JsonObject {
  if (jsonKind(v) !== 'object') fail(path, `must be an object, got ${jsonKind(v)}`);
}

function expectString(v: unknown, path: string): asserts v is string {
  if (typeof v !== 'string') fail(path, `must be a string, got ${jsonKind(v)}`);
}

const str: Check = expectString;

const bool: Check = (v, path) => {
  if (typeof v !== 'boolean') fail(path, `must be a boolean, got ${jsonKind(v)}`);
};

const anyObject: Check = expectObject;

function integer(min: number, max: number): Check {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `must be an integer, got ${JSON.stringify(v)}`);
    if (v < min || v > max) fail(path, `must be between ${min} and ${max}, got ${v}`);
  };
}

const MAX_U32 = 2 ** 32 - 1;
const uint32 = integer(0, MAX_U32);
const uint16 = integer(0, 0xffff);
// 64-bit values (RLIM_INFINITY = 2^64-1) do not survive JSON.parse exactly, so only the sign is checked.
const uint64 = integer(0, Number.POSITIVE_INFINITY);
const int64 = integer(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);

const nonEmptyString: Check = (v, path) => {
  expectString(v, path);
  if (v === '') fail(path, 'must not be empty');
};

const absolutePath: Check = (v, path) => {
  expectString(v, path);
  if (!v.startsWith('/')) fail(path, `must be an absolute path, got ${JSON.stringify(v)}`);
};

function oneOf(allowed: readonly string[]): Check {
  return (v, path) => {
    expectString(v, path);
    if (!allowed.includes(v)) fail(path, `must be one of ${allowed.join(', ')}; got ${JSON.stringify(v)}`);
  };
}

function matching(pattern: RegExp, expected: string): Check {
  return (v, path) => {
    expectString(v, path);
    if (!pattern.test(v)) fail(path, `must be ${expected}, got ${JSON.stringify(v)}`);
  };
}

function arrayOf(item: Check, options: { nonEmpty?: boolean } = {}): Check {
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, `must be an array, got ${jsonKind(v)}`);
    if (options.nonEmpty && v.length === 0) fail(path, 'must not be empty');
    v.forEach((element, i) => item(element, `${path}[${i}]`));
  };
}

function recordOf(item: Check): Check {
  return (v, path) => {
    expectObject(v, path);
    for (const [key, value] of Object.entries(v)) item(value, fieldPath(path, key));
  };
}

function nullable(check: Check): Check {
  return (v, path) => {
    if (v !== null) check(v, path);
  };
}

/** Runs checks in order on the same value: typically a shape, then a rule across its fields. */
function allOf(...checks: Check[]): Check {
  return (v, path) => {
    for (const check of checks) check(v, path);
  };
}

/** An object whose listed fields are checked when present; `required` ones must be present. */
function shape(fields: Record<string, Check>, required: readonly string[] = []): Check {
  return (v, path) => {
    expectObject(v, path);
    for (const key of required) {
      if (v[key] === undefined) fail(fieldPath(path, key), 'is required');
    }
    for (const [key, check] of Object.entries(fields)) {
      if (v[key] !== undefined) check(v[key], fieldPath(path, key));
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Field formats.

const NAMESPACE_TYPES: readonly NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];
const ROOTFS_PROPAGATIONS = ['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate', 'unbindable', 'runbindable'];

// runtime-spec versions are SemVer; tsrun implements 1.x (1.0.2-dev is what runc 1.1 writes).
const ociVersion = matching(/^1\.\d+(\.\d+)?([-+][0-9A-Za-z.+-]*)?$/, 'a runtime-spec 1.x version');

const envEntry = matching(/^[^=]+=/s, 'KEY=VALUE');

const capabilityName: Check = (v, path) => {
  expectString(v, path);
  if (isCapabilityName(v)) return;
  const hint = capabilityNameHint(v);
  fail(path, `unknown capability ${JSON.stringify(v)}${hint ? ` (did you mean ${hint}?)` : ''}`);
};

const rlimitType: Check = (v, path) => {
  expectString(v, path);
  if (!isRlimitName(v)) fail(path, `unknown rlimit type ${JSON.stringify(v)}`);
};

// A hostname longer than the kernel's __NEW_UTS_LEN (64) makes sethostname(2) fail with EINVAL.
const utsName: Check = (v, path) => {
  expectString(v, path);
  if (Buffer.byteLength(v) > 64) fail(path, 'must be at most 64 bytes (the kernel limit for sethostname)');
};

// ---------------------------------------------------------------------------------------------
// Shapes of the runtime-spec objects, leaf first.

const idMapping = shape({ containerID: uint32, hostID: uint32, size: integer(1, MAX_U32) }, ['containerID', 'hostID', 'size']);

const root = shape({ path: nonEmptyString, readonly: bool }, ['path']);

// runtime-spec 1.0 required absolute destinations; 1.1 tolerates relative ones (read against "/") but
// deprecates them. tsrun refuses them so a typo cannot mount somewhere unexpected.
const mount = shape(
  { destination: absolutePath, type: str, source: str, options: arrayOf(str), uidMappings: arrayOf(idMapping), gidMappings: arrayOf(idMapping) },
  ['destination'],
);

const user = shape({ uid: uint32, gid: uint32, umask: uint32, additionalGids: arrayOf(uint32), username: str }, ['uid', 'gid']);

const capabilitySet = arrayOf(capabilityName);
const capabilities = shape({ bounding: capabilitySet, effective: capabilitySet, inheritable: capabilitySet, permitted: capabilitySet, ambient: capabilitySet });

const softNotAboveHard: Check = (v, path) => {
  const limit = v as Rlimit;
  if (limit.soft > limit.hard) fail(`${path}.soft`, `soft limit ${limit.soft} is above the hard limit ${limit.hard}`);
};
const rlimit = allOf(shape({ type: rlimitType, hard: uint64, soft: uint64 }, ['type', 'hard', 'soft']), softNotAboveHard);

// The runtime-spec says runtimes MUST ignore consoleSize when terminal is not true, so a consoleSize
// without a terminal is type-checked but not refused.
const consoleSize = shape({ height: uint32, width: uint32 }, ['height', 'width']);

const processShape = shape(
  {
    terminal: bool,
    consoleSize,
    user,
    args: arrayOf(str, { nonEmpty: true }),
    commandLine: str,
    env: arrayOf(envEntry),
    cwd: absolutePath,
    capabilities,
    rlimits: arrayOf(rlimit),
    noNewPrivileges: bool,
    apparmorProfile: str,
    oomScoreAdj: integer(-1000, 1000),
    selinuxLabel: str,
  },
  // runtime-spec makes user and cwd required; args is required on Linux (there is nothing else to exec).
  ['user', 'args', 'cwd'],
);

const hook = shape({ path: absolutePath, args: arrayOf(str), env: arrayOf(envEntry), timeout: integer(1, MAX_U32) }, ['path']);
const hookList = arrayOf(hook);
const hooks = shape({
  prestart: hookList,
  createRuntime: hookList,
  createContainer: hookList,
  startContainer: hookList,
  poststart: hookList,
  poststop: hookList,
});

const namespace = shape({ type: oneOf(NAMESPACE_TYPES), path: absolutePath }, ['type']);

// Character, block and unbuffered-character devices need a device number for mknod(2); FIFOs do not.
const deviceNumbersWhenNeeded: Check = (v, path) => {
  const device = v as JsonObject;
  if (device['type'] === 'p') return;
  for (const key of ['major', 'minor']) {
    if (device[key] === undefined) fail(`${path}.${key}`, `is required for a device of type "${String(device['type'])}"`);
  }
};
const device = allOf(
  shape(
    { type: oneOf(['c', 'b', 'u', 'p']), path: absolutePath, major: int64, minor: int64, fileMode: uint32, uid: uint32, gid: uint32 },
    ['type', 'path'],
  ),
  deviceNumbersWhenNeeded,
);

const deviceCgroup = shape(
  { allow: bool, type: oneOf(['a', 'c', 'b']), major: nullable(int64), minor: nullable(int64), access: matching(/^[rwm]*$/, 'made of the letters r, w, m') },
  ['allow'],
);

const memory = shape({
  limit: int64,
  reservation: int64,
  swap: int64,
  kernel: int64,
  kernelTCP: int64,
  swappiness: uint64,
  disableOOMKiller: bool,
  useHierarchy: bool,
  checkBeforeUpdate: bool,
});

const cpu = shape({
  shares: uint64,
  quota: int64,
  burst: uint64,
  period: uint64,
  realtimeRuntime: int64,
  realtimePeriod: uint64,
  cpus: str,
  mems: str,
  idle: int64,
});

const weightDevice = shape({ major: int64, minor: int64, weight: uint16, leafWeight: uint16 }, ['major', 'minor']);
const throttleDevice = shape({ major: int64, minor: int64, rate: uint64 }, ['major', 'minor', 'rate']);
const blockIO = shape({
  weight: uint16,
  leafWeight: uint16,
  weightDevice: arrayOf(weightDevice),
  throttleReadBpsDevice: arrayOf(throttleDevice),
  throttleWriteBpsDevice: arrayOf(throttleDevice),
  throttleReadIOPSDevice: arrayOf(throttleDevice),
  throttleWriteIOPSDevice: arrayOf(throttleDevice),
});

const resources = shape({
  devices: arrayOf(deviceCgroup),
  memory,
  cpu,
  pids: shape({ limit: int64 }, ['limit']),
  blockIO,
  hugepageLimits: arrayOf(shape({ pageSize: nonEmptyString, limit: uint64 }, ['pageSize', 'limit'])),
  network: anyObject,
  rdma: anyObject,
  unified: recordOf(str),
});

// Shapes only: which actions, operators, architectures and flags tsrun supports is src/seccomp's call.
const seccompArg = shape({ index: uint32, value: uint64, valueTwo: uint64, op: nonEmptyString }, ['index', 'value', 'op']);
const seccompSyscall = shape({ names: arrayOf(str, { nonEmpty: true }), action: nonEmptyString, errnoRet: uint32, args: arrayOf(seccompArg) }, ['names', 'action']);
const seccomp = shape({
  defaultAction: nonEmptyString, defaultErrnoRet: uint32, architectures: arrayOf(str), flags: arrayOf(str),
  listenerPath: str, listenerMetadata: str, syscalls: arrayOf(seccompSyscall),
}, ['defaultAction']);

const linux = shape({
  namespaces: arrayOf(namespace),
  uidMappings: arrayOf(idMapping),
  gidMappings: arrayOf(idMapping),
  devices: arrayOf(device),
  cgroupsPath: str,
  resources,
  rootfsPropagation: oneOf(ROOTFS_PROPAGATIONS),
  seccomp,
  sysctl: recordOf(str),
  maskedPaths: arrayOf(absolutePath),
  readonlyPaths: arrayOf(absolutePath),
  mountLabel: str,
  personality: anyObject,
});

// root is OPTIONAL in the runtime-spec only for Windows Hyper-V containers; on Linux it is REQUIRED.
// process is optional until `start`, but every tsrun lifecycle ends in a start, so it is required here.
const checkSpecShape = shape(
  { ociVersion, root, mounts: arrayOf(mount), process: processShape, hostname: utsName, domainname: utsName, hooks, annotations: recordOf(str), linux },
  ['ociVersion', 'root', 'process'],
);

// ---------------------------------------------------------------------------------------------
// Rules across fields. The spec's shape is known to be right by now.

function checkRules(spec: Spec, callerNamespaces: CallerNamespaces | undefined): void {
  const namespaces = spec.linux?.namespaces ?? [];
  checkNoDuplicateNamespaces(namespaces);
  const view = namespaceView(namespaces, callerNamespaces);
  checkIdMappings(spec, namespaces);
  checkUtsNames(spec, view);
  checkSysctls(spec, view);
  checkMountTableChanges(spec, view);
  checkNoDuplicateRlimits(spec.process?.rlimits ?? []);
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

/** The namespace entry of a type, if the config lists one (with or without a path). */
function findNamespace(namespaces: Namespace[], type: NamespaceType): Namespace | undefined {
  return namespaces.find((ns) => ns.type === type);
}

/**
 * How the container's namespaces relate to the caller's: for each type, absent (shared), new, or
 * joined by path — and then whether that path is the caller's own namespace (shared after all).
 */
interface NamespaceView {
  namespaces: Namespace[];
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
    namespaces,
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

// Id maps are written to /proc/<pid>/{uid,gid}_map of a user namespace the runtime creates; without
// one there is nothing to write them to. A new user namespace without maps would run everything as
// the overflow id (nobody), which is never what a config means.
function checkIdMappings(spec: Spec, namespaces: Namespace[]): void {
  const userNs = findNamespace(namespaces, 'user');
  for (const key of ['uidMappings', 'gidMappings'] as const) {
    const maps = spec.linux?.[key];
    if (maps !== undefined && maps.length > 0 && userNs === undefined) {
      fail(`linux.${key}`, 'requires a user namespace in linux.namespaces');
    }
    if (userNs !== undefined && userNs.path === undefined && (maps === undefined || maps.length === 0)) {
      fail(`linux.${key}`, 'is required when a new user namespace is created');
    }
  }
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
