// Validates a parsed config.json before anything touches the system. Two passes:
//  1. shape: every field tsrun reads (src/oci/types.ts) has the right JSON type, range and format,
//     within what the kernel takes (checks.ts);
//  2. rules: cross-field constraints a runtime must enforce (spec-rules.ts: namespaces vs hostname,
//     sysctl, masked paths, id maps, execve's limits…).
// The first problem found is thrown as a ConfigError whose field is a JSON path such as
// `linux.namespaces[2].type`, so a user can find the offending line. Unknown properties are ignored,
// as the runtime-spec requires. Pure, except for what `callerNamespaces` answers (which namespaces
// joined by path are the caller's own): given by `create`, left out where the config was checked before.
import { ConfigError } from '../errors.js';
import type { CallerNamespaces } from './caller-namespaces.js';
import { capabilityNameHint, isCapabilityName } from '../abi/capabilities.js';
import {
  Invalid, MAX_U32, absolutePath, allOf, anyObject, arrayOf, bool, deviceMajor, deviceMinor, expectString, fail, int64, integer,
  matching, nonEmptyString, nullable, oneOf, pathString, recordOf, shape, str, uint16, uint32, uint64, unixId,
  type Check, type JsonObject,
} from './checks.js';
import { isRlimitName } from '../abi/rlimits.js';
import { checkSecurityRules } from './security-rules.js';
import { MAX_EXEC_STRINGS, checkRules } from './spec-rules.js';
import type { NamespaceType, Rlimit, Spec } from './types.js';

export { fieldPath } from './checks.js';
export { sysctlNamespace } from './spec-rules.js';

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
    checkSecurityRules(spec, fail);
    return spec;
  } catch (err) {
    // The document itself has the empty path; name it so the message does not start with ": ".
    if (err instanceof Invalid) throw new ConfigError(err.field || 'config', err.problem, file);
    throw err;
  }
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

// A sysctl key names a file under /proc/sys: dot- or slash-separated names, as sysctl(8) writes them.
const sysctlKey: Check = (v, path) => {
  pathString(v, path);
  if (!/^[^./]+([./][^./]+)*$/.test(v as string)) fail(path, 'must be a sysctl name such as net.ipv4.ip_forward');
};

// ---------------------------------------------------------------------------------------------
// Shapes of the runtime-spec objects, leaf first.

// The kernel takes at most 340 lines in uid_map/gid_map (UID_GID_MAP_MAX_EXTENTS).
const idMapping = shape({ containerID: uint32, hostID: uint32, size: integer(1, MAX_U32) }, ['containerID', 'hostID', 'size']);
const idMappings = arrayOf(idMapping, { maxItems: 340, limitReason: 'the kernel takes 340 ranges in uid_map and gid_map' });

const root = shape({ path: allOf(nonEmptyString, pathString), readonly: bool }, ['path']);

// runtime-spec 1.0 required absolute destinations; 1.1 tolerates relative ones (read against "/") but
// deprecates them. tsrun refuses them so a typo cannot mount somewhere unexpected.
const mount = shape(
  { destination: absolutePath, type: str, source: pathString, options: arrayOf(str), uidMappings: idMappings, gidMappings: idMappings },
  ['destination'],
);

// The plan's setgroups step carries at most 65535 ids (the kernel's NGROUPS_MAX is 65536).
const additionalGids = arrayOf(unixId, { maxItems: 65535, limitReason: 'setgroups(2) takes 65536; tsrun\'s plan 65535' });
const user = shape({ uid: unixId, gid: unixId, umask: integer(0, 0o777), additionalGids, username: str }, ['uid', 'gid']);

const capabilitySet = arrayOf(capabilityName);
const capabilities = shape({ bounding: capabilitySet, effective: capabilitySet, inheritable: capabilitySet, permitted: capabilitySet, ambient: capabilitySet });

const softNotAboveHard: Check = (v, path) => {
  const limit = v as Rlimit;
  if (limit.soft > limit.hard) fail(`${path}.soft`, `soft limit ${limit.soft} is above the hard limit ${limit.hard}`);
};
const rlimit = allOf(shape({ type: rlimitType, hard: uint64, soft: uint64 }, ['type', 'hard', 'soft']), softNotAboveHard);

// The runtime-spec says runtimes MUST ignore consoleSize when terminal is not true, so a consoleSize
// without a terminal is type-checked but not refused. TIOCSWINSZ takes 16-bit sizes.
const consoleSize = shape({ height: uint16, width: uint16 }, ['height', 'width']);

// execve's own limits (count, string and total size) are checked across args and env in spec-rules.ts.
const execStrings = { maxItems: MAX_EXEC_STRINGS, limitReason: 'tsrun passes at most that many strings to execve' };

const processShape = shape(
  {
    terminal: bool,
    consoleSize,
    user,
    args: arrayOf(str, { nonEmpty: true, ...execStrings }),
    commandLine: str,
    env: arrayOf(envEntry, execStrings),
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

// Hooks run under a Node timer, which takes at most 2^31-1 ms: a longer timeout would fire at once.
const hook = shape({ path: absolutePath, args: arrayOf(str, execStrings), env: arrayOf(envEntry, execStrings), timeout: integer(1, 2147483) }, ['path']);
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
// fileMode is the permission bits (07777); mknod(2) takes the file type from `type`.
const device = allOf(
  shape(
    { type: oneOf(['c', 'b', 'u', 'p']), path: absolutePath, major: deviceMajor, minor: deviceMinor, fileMode: integer(0, 0o7777), uid: unixId, gid: unixId },
    ['type', 'path'],
  ),
  deviceNumbersWhenNeeded,
);

// In a device rule, null or -1 is the wildcard `*`.
const deviceCgroup = shape(
  {
    allow: bool, type: oneOf(['a', 'c', 'b']), major: nullable(integer(-1, 0xfff)), minor: nullable(integer(-1, 0xfffff)),
    access: matching(/^[rwm]*$/, 'made of the letters r, w, m'),
  },
  ['allow'],
);

const memory = shape({
  limit: int64,
  reservation: int64,
  swap: int64,
  kernel: int64,
  kernelTCP: int64,
  swappiness: integer(0, 100),
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

const weightDevice = shape({ major: deviceMajor, minor: deviceMinor, weight: uint16, leafWeight: uint16 }, ['major', 'minor']);
const throttleDevice = shape({ major: deviceMajor, minor: deviceMinor, rate: uint64 }, ['major', 'minor', 'rate']);
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
  unified: recordOf(str, { maxKeys: 4096, key: pathString }),
});

// Shapes only: which actions, operators, architectures and flags tsrun supports is src/seccomp's call.
const seccompArg = shape({ index: uint32, value: uint64, valueTwo: uint64, op: nonEmptyString }, ['index', 'value', 'op']);
const seccompSyscall = shape({ names: arrayOf(str, { nonEmpty: true }), action: nonEmptyString, errnoRet: uint32, args: arrayOf(seccompArg) }, ['names', 'action']);
const seccomp = shape({
  defaultAction: nonEmptyString, defaultErrnoRet: uint32, architectures: arrayOf(str), flags: arrayOf(str),
  listenerPath: str, listenerMetadata: str, syscalls: arrayOf(seccompSyscall),
}, ['defaultAction']);

// time_namespaces(7): /proc/PID/timens_offsets names two clocks; the kernel takes nanoseconds below one
// second (tv_nsec), and seconds as a signed 64-bit value (how far they may go is the kernel's call).
const TIME_CLOCKS = ['monotonic', 'boottime'];
const timeClock: Check = (v, path) => {
  expectString(v, path);
  if (!TIME_CLOCKS.includes(v)) fail(path, `clock must be one of ${TIME_CLOCKS.join(', ')} (the clocks a time namespace offsets), got ${JSON.stringify(v)}`);
};
const timeOffset = shape({ secs: int64, nanosecs: integer(0, 999_999_999) });

const linux = shape({
  namespaces: arrayOf(namespace),
  timeOffsets: recordOf(timeOffset, { key: timeClock }),
  uidMappings: idMappings,
  gidMappings: idMappings,
  devices: arrayOf(device),
  cgroupsPath: pathString,
  resources,
  rootfsPropagation: oneOf(ROOTFS_PROPAGATIONS),
  seccomp,
  sysctl: recordOf(str, { maxKeys: 4096, key: sysctlKey }),
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
