import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import { thisProcessNamespaces, type CallerNamespaces, type JoinedNamespace } from '../../../src/oci/caller-namespaces.js';
import { fieldPath, sysctlNamespace, validateSpec } from '../../../src/oci/validate.js';

type Json = Record<string, unknown>;

/** A valid config to break one field of: runc's default, as a plain JSON object. */
function baseConfig(): Json {
  return JSON.parse(JSON.stringify(defaultSpec())) as Json;
}

/** Sets (or deletes, for undefined) the value at a dotted path with [i] indexes, e.g. `linux.namespaces[2].type`. */
function setAt(target: Json, path: string, value: unknown): void {
  const keys = path.split(/\.|(?=\[)/).map((k) => (k.startsWith('[') ? Number(k.slice(1, -1)) : k));
  let node: Record<string | number, unknown> = target;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

function configWith(changes: Record<string, unknown>): Json {
  const config = baseConfig();
  for (const [path, value] of Object.entries(changes)) setAt(config, path, value);
  return config;
}

function validationError(config: unknown, file?: string): ConfigError {
  try {
    validateSpec(config, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected validateSpec to reject the config');
}

/** Asserts the config is refused for `field`, with the field path at the start of the message. */
function expectRejected(config: unknown, field: string, problem: RegExp): void {
  const err = validationError(config);
  expect(err.details.field).toBe(field);
  expect(err.message.startsWith(`${field}: `)).toBe(true);
  expect(err.message).toMatch(problem);
}

const USER_NS = { type: 'user' };
const ID_MAP = [{ containerID: 0, hostID: 1000, size: 1 }];
const NO_UTS = [{ type: 'pid' }, { type: 'mount' }];

describe('validateSpec: accepted configs', () => {
  it('accepts the default spec and returns it unchanged', () => {
    const config = baseConfig();
    expect(validateSpec(config)).toBe(config);
  });

  it('ignores unknown properties at any level', () => {
    const config = configWith({ vendorThing: { a: 1 }, 'process.futureField': true, 'linux.intelRdt': {} });
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('accepts a minimal config without linux or mounts', () => {
    const config = { ociVersion: '1.1.0', root: { path: 'rootfs' }, process: { user: { uid: 0, gid: 0 }, args: ['true'], cwd: '/' } };
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('accepts RLIM_INFINITY, which JSON.parse cannot represent exactly', () => {
    const config = JSON.parse(JSON.stringify(baseConfig()).replace('"hard":1024', '"hard":18446744073709551615')) as Json;
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('accepts consoleSize without a terminal (the runtime-spec says to ignore it)', () => {
    const config = configWith({ 'process.terminal': false, 'process.consoleSize': { height: 24, width: 80 } });
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('accepts a user namespace joined by path without id mappings', () => {
    const config = configWith({ 'linux.namespaces[5]': { type: 'user', path: '/proc/1/ns/user' } });
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('accepts a new user namespace with mappings', () => {
    const config = configWith({ 'linux.namespaces[5]': USER_NS, 'linux.uidMappings': ID_MAP, 'linux.gidMappings': ID_MAP });
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('accepts namespaced sysctls when their namespace is private', () => {
    const sysctl = { 'kernel.shmmax': '1', 'kernel.msgmax': '1', 'fs.mqueue.msg_max': '1', 'net.ipv4.ip_forward': '1', 'net/ipv4/ping_group_range': '0 0', 'kernel.domainname': 'x' };
    expect(() => validateSpec(configWith({ 'linux.sysctl': sysctl }))).not.toThrow();
  });

  it('accepts a FIFO device without major/minor and a null device-cgroup major', () => {
    const config = configWith({
      'linux.devices': [{ type: 'p', path: '/dev/fifo' }],
      'linux.resources.devices[1]': { allow: true, type: 'c', major: null, minor: null, access: 'rw' },
    });
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('accepts an empty hostname without a uts namespace', () => {
    expect(() => validateSpec(configWith({ hostname: '', 'linux.namespaces': NO_UTS }))).not.toThrow();
  });

  it('accepts mounts without any namespace (the caller\'s are inherited)', () => {
    // The suite's linux_ns_itype config: each namespace is the runtime's; mounts go into its mount table.
    const config = configWith({ hostname: undefined, 'linux.namespaces': [], 'linux.maskedPaths': [], 'linux.readonlyPaths': undefined });
    expect((config.mounts as unknown[]).length).toBeGreaterThan(0);
    expect(() => validateSpec(config)).not.toThrow();
  });
});

describe('validateSpec: error reporting', () => {
  it('puts the file name into the error details', () => {
    const err = validationError(configWith({ ociVersion: undefined }), '/b/config.json');
    expect(err.details).toEqual({ field: 'ociVersion', file: '/b/config.json' });
  });

  it('names the whole document when it is not an object', () => {
    expectRejected([], 'config', /must be an object, got array/);
    expectRejected(null, 'config', /got null/);
  });

  it('quotes keys that are not identifiers', () => {
    expect(fieldPath('linux.sysctl', 'net.ipv4.ip_forward')).toBe('linux.sysctl["net.ipv4.ip_forward"]');
    expect(fieldPath('', 'process')).toBe('process');
  });
});

// [what, changes to the default spec, field path in the error, problem]
const rejections: [string, Record<string, unknown>, string, RegExp][] = [
  // version and root
  ['missing ociVersion', { ociVersion: undefined }, 'ociVersion', /is required/],
  ['ociVersion 2.x', { ociVersion: '2.0.0' }, 'ociVersion', /runtime-spec 1\.x/],
  ['ociVersion not a string', { ociVersion: 1 }, 'ociVersion', /must be a string, got number/],
  ['missing root', { root: undefined }, 'root', /is required/],
  ['missing root.path', { 'root.path': undefined }, 'root.path', /is required/],
  ['empty root.path', { 'root.path': '' }, 'root.path', /must not be empty/],
  ['root.readonly not boolean', { 'root.readonly': 'yes' }, 'root.readonly', /must be a boolean/],
  // process
  ['missing process', { process: undefined }, 'process', /is required/],
  ['missing args', { 'process.args': undefined }, 'process.args', /is required/],
  ['empty args', { 'process.args': [] }, 'process.args', /must not be empty/],
  ['args not an array', { 'process.args': 'sh' }, 'process.args', /must be an array, got string/],
  ['non-string arg', { 'process.args': ['sh', 1] }, 'process.args[1]', /must be a string/],
  ['relative cwd', { 'process.cwd': 'home' }, 'process.cwd', /absolute path, got "home"/],
  ['missing cwd', { 'process.cwd': undefined }, 'process.cwd', /is required/],
  ['env entry without =', { 'process.env[1]': 'TERM' }, 'process.env[1]', /KEY=VALUE/],
  ['env entry with empty key', { 'process.env[0]': '=x' }, 'process.env[0]', /KEY=VALUE/],
  ['missing user', { 'process.user': undefined }, 'process.user', /is required/],
  ['negative uid', { 'process.user.uid': -1 }, 'process.user.uid', /between 0 and 4294967294, got -1/],
  ['fractional gid', { 'process.user.gid': 1.5 }, 'process.user.gid', /must be an integer/],
  ['missing gid', { 'process.user.gid': undefined }, 'process.user.gid', /is required/],
  ['negative additional gid', { 'process.user.additionalGids': [5, -3] }, 'process.user.additionalGids[1]', /between 0/],
  ['umask as a string', { 'process.user.umask': '022' }, 'process.user.umask', /must be an integer/],
  ['terminal not boolean', { 'process.terminal': 'true' }, 'process.terminal', /must be a boolean/],
  ['consoleSize without width', { 'process.consoleSize': { height: 24 } }, 'process.consoleSize.width', /is required/],
  ['noNewPrivileges not boolean', { 'process.noNewPrivileges': 1 }, 'process.noNewPrivileges', /must be a boolean/],
  ['oomScoreAdj above 1000', { 'process.oomScoreAdj': 1001 }, 'process.oomScoreAdj', /between -1000 and 1000/],
  ['oomScoreAdj below -1000', { 'process.oomScoreAdj': -1001 }, 'process.oomScoreAdj', /between -1000 and 1000/],
  ['apparmorProfile not a string', { 'process.apparmorProfile': false }, 'process.apparmorProfile', /must be a string/],
  // capabilities
  ['unknown capability', { 'process.capabilities.bounding[1]': 'CAP_FLY' }, 'process.capabilities.bounding[1]', /unknown capability "CAP_FLY"/],
  ['capability without prefix', { 'process.capabilities.ambient': ['net_admin'] }, 'process.capabilities.ambient[0]', /did you mean CAP_NET_ADMIN/],
  ['capability beyond the table', { 'process.capabilities.effective[0]': 'CAP_41' }, 'process.capabilities.effective[0]', /unknown capability/],
  ['capability set not an array', { 'process.capabilities.permitted': 'CAP_KILL' }, 'process.capabilities.permitted', /must be an array/],
  // rlimits
  ['unknown rlimit', { 'process.rlimits[0].type': 'RLIMIT_FILES' }, 'process.rlimits[0].type', /unknown rlimit type "RLIMIT_FILES"/],
  ['soft above hard', { 'process.rlimits[0].soft': 2048 }, 'process.rlimits[0].soft', /soft limit 2048 is above the hard limit 1024/],
  ['missing hard', { 'process.rlimits[0].hard': undefined }, 'process.rlimits[0].hard', /is required/],
  ['negative soft', { 'process.rlimits[0].soft': -1 }, 'process.rlimits[0].soft', /between 0/],
  [
    'duplicate rlimit',
    { 'process.rlimits[1]': { type: 'RLIMIT_NOFILE', hard: 1, soft: 1 } },
    'process.rlimits[1].type',
    /duplicate rlimit "RLIMIT_NOFILE" \(also process.rlimits\[0\]\)/,
  ],
  // hostname / domainname
  ['hostname without uts namespace', { 'linux.namespaces': NO_UTS }, 'hostname', /new uts namespace/],
  ['domainname without uts namespace', { hostname: undefined, domainname: 'example.org', 'linux.namespaces': NO_UTS }, 'domainname', /new uts namespace/],
  ['hostname longer than 64 bytes', { hostname: 'h'.repeat(65) }, 'hostname', /at most 64 bytes/],
  // mounts
  ['relative mount destination', { 'mounts[0].destination': 'proc' }, 'mounts[0].destination', /absolute path, got "proc"/],
  ['missing mount destination', { 'mounts[1].destination': undefined }, 'mounts[1].destination', /is required/],
  ['mount type not a string', { 'mounts[1].type': 7 }, 'mounts[1].type', /must be a string, got number/],
  ['mount source not a string', { 'mounts[1].source': null }, 'mounts[1].source', /must be a string, got null/],
  ['mount option not a string', { 'mounts[2].options[3]': 666 }, 'mounts[2].options[3]', /must be a string/],
  ['mount options not an array', { 'mounts[2].options': 'ro' }, 'mounts[2].options', /must be an array/],
  ['mount id map of size 0', { 'mounts[0].uidMappings': [{ containerID: 0, hostID: 0, size: 0 }] }, 'mounts[0].uidMappings[0].size', /between 1/],
  // namespaces
  ['unknown namespace type', { 'linux.namespaces[2].type': 'nett' }, 'linux.namespaces[2].type', /must be one of pid, network.*; got "nett"/],
  ['duplicate namespace', { 'linux.namespaces[5]': { type: 'pid' } }, 'linux.namespaces[5].type', /duplicate namespace "pid" \(also linux.namespaces\[0\]\)/],
  ['relative namespace path', { 'linux.namespaces[0].path': 'proc/1/ns/pid' }, 'linux.namespaces[0].path', /absolute path/],
  ['namespace without type', { 'linux.namespaces[1]': { path: '/proc/1/ns/net' } }, 'linux.namespaces[1].type', /is required/],
  // id mappings
  ['uidMappings without user namespace', { 'linux.uidMappings': ID_MAP }, 'linux.uidMappings', /requires a user namespace/],
  ['gidMappings without user namespace', { 'linux.gidMappings': ID_MAP }, 'linux.gidMappings', /requires a user namespace/],
  ['new user namespace without uidMappings', { 'linux.namespaces[5]': USER_NS, 'linux.gidMappings': ID_MAP }, 'linux.uidMappings', /is required when a new user namespace/],
  ['new user namespace without gidMappings', { 'linux.namespaces[5]': USER_NS, 'linux.uidMappings': ID_MAP }, 'linux.gidMappings', /is required when a new user namespace/],
  ['id mapping of size 0', { 'linux.namespaces[5]': USER_NS, 'linux.uidMappings': [{ containerID: 0, hostID: 1000, size: 0 }], 'linux.gidMappings': ID_MAP }, 'linux.uidMappings[0].size', /between 1/],
  ['negative hostID', { 'linux.namespaces[5]': USER_NS, 'linux.uidMappings': ID_MAP, 'linux.gidMappings': [{ containerID: 0, hostID: -5, size: 1 }] }, 'linux.gidMappings[0].hostID', /between 0/],
  ['id mapping without containerID', { 'linux.namespaces[5]': USER_NS, 'linux.uidMappings': [{ hostID: 1000, size: 1 }], 'linux.gidMappings': ID_MAP }, 'linux.uidMappings[0].containerID', /is required/],
  // sysctl
  ['ipc sysctl without ipc namespace', { 'linux.namespaces': NO_UTS, hostname: undefined, 'linux.sysctl': { 'kernel.shmmax': '1' } }, 'linux.sysctl["kernel.shmmax"]', /private ipc namespace/],
  ['mqueue sysctl without ipc namespace', { 'linux.namespaces': NO_UTS, hostname: undefined, 'linux.sysctl': { 'fs.mqueue.queues_max': '1' } }, 'linux.sysctl["fs.mqueue.queues_max"]', /private ipc namespace/],
  ['net sysctl without network namespace', { 'linux.namespaces': NO_UTS, hostname: undefined, 'linux.sysctl': { 'net.ipv4.ip_forward': '1' } }, 'linux.sysctl["net.ipv4.ip_forward"]', /private network namespace/],
  ['domainname sysctl without uts namespace', { 'linux.namespaces': NO_UTS, hostname: undefined, 'linux.sysctl': { 'kernel.domainname': 'x' } }, 'linux.sysctl["kernel.domainname"]', /private uts namespace/],
  ['host-wide sysctl', { 'linux.sysctl': { 'vm.swappiness': '10' } }, 'linux.sysctl["vm.swappiness"]', /not isolated by any namespace/],
  ['kernel.hostname sysctl next to hostname', { 'linux.sysctl': { 'kernel.hostname': 'x' } }, 'linux.sysctl["kernel.hostname"]', /conflicts with the hostname field/],
  ['sysctl value not a string', { 'linux.sysctl': { 'net.ipv4.ip_forward': 1 } }, 'linux.sysctl["net.ipv4.ip_forward"]', /must be a string/],
  // devices
  ['unknown device type', { 'linux.devices': [{ type: 'x', path: '/dev/x', major: 1, minor: 1 }] }, 'linux.devices[0].type', /must be one of c, b, u, p/],
  ['relative device path', { 'linux.devices': [{ type: 'c', path: 'dev/null', major: 1, minor: 3 }] }, 'linux.devices[0].path', /absolute path/],
  ['char device without major', { 'linux.devices': [{ type: 'c', path: '/dev/null', minor: 3 }] }, 'linux.devices[0].major', /required for a device of type "c"/],
  ['block device without minor', { 'linux.devices': [{ type: 'b', path: '/dev/sda', major: 8 }] }, 'linux.devices[0].minor', /required for a device of type "b"/],
  ['device fileMode not a number', { 'linux.devices': [{ type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: '0666' }] }, 'linux.devices[0].fileMode', /must be an integer/],
  // resources
  ['device cgroup access with a bad letter', { 'linux.resources.devices[0].access': 'rwx' }, 'linux.resources.devices[0].access', /letters r, w, m/],
  ['device cgroup without allow', { 'linux.resources.devices[0].allow': undefined }, 'linux.resources.devices[0].allow', /is required/],
  ['device cgroup type u', { 'linux.resources.devices[0].type': 'u' }, 'linux.resources.devices[0].type', /must be one of a, c, b/],
  ['memory limit as a string', { 'linux.resources.memory': { limit: '1g' } }, 'linux.resources.memory.limit', /must be an integer/],
  ['pids without limit', { 'linux.resources.pids': {} }, 'linux.resources.pids.limit', /is required/],
  ['cpu.cpus not a string', { 'linux.resources.cpu': { cpus: 0 } }, 'linux.resources.cpu.cpus', /must be a string/],
  ['blockIO weight out of range', { 'linux.resources.blockIO': { weight: 70000 } }, 'linux.resources.blockIO.weight', /between 0 and 65535/],
  ['throttle device without rate', { 'linux.resources.blockIO': { throttleReadBpsDevice: [{ major: 8, minor: 0 }] } }, 'linux.resources.blockIO.throttleReadBpsDevice[0].rate', /is required/],
  ['hugepage limit without pageSize', { 'linux.resources.hugepageLimits': [{ limit: 1 }] }, 'linux.resources.hugepageLimits[0].pageSize', /is required/],
  ['unified value not a string', { 'linux.resources.unified': { 'memory.max': 5 } }, 'linux.resources.unified["memory.max"]', /must be a string/],
  // other linux fields
  ['relative masked path', { 'linux.maskedPaths[2]': 'proc/kcore' }, 'linux.maskedPaths[2]', /absolute path/],
  ['relative readonly path', { 'linux.readonlyPaths[0]': 'proc/bus' }, 'linux.readonlyPaths[0]', /absolute path/],
  ['masked paths without a mount namespace', { hostname: undefined, 'linux.namespaces': [] }, 'linux.maskedPaths', /needs a private mount namespace/],
  ['read-only paths without a mount namespace', { hostname: undefined, 'linux.namespaces': [{ type: 'pid' }], 'linux.maskedPaths': undefined }, 'linux.readonlyPaths', /needs a private mount namespace/],
  [
    'a remount without a mount namespace',
    { hostname: undefined, 'linux.namespaces': [], 'linux.maskedPaths': undefined, 'linux.readonlyPaths': undefined, 'mounts[1].options': ['remount', 'ro'] },
    'mounts[1].options', /"remount" changes a mount tsrun did not make/,
  ],
  ['unknown rootfsPropagation', { 'linux.rootfsPropagation': 'recursive' }, 'linux.rootfsPropagation', /must be one of shared, slave, private, rshared, rslave, rprivate, unbindable, runbindable/],
  ['seccomp without defaultAction', { 'linux.seccomp': { architectures: [] } }, 'linux.seccomp.defaultAction', /is required/],
  ['cgroupsPath not a string', { 'linux.cgroupsPath': ['a'] }, 'linux.cgroupsPath', /must be a string, got array/],
  ['linux not an object', { linux: 'yes' }, 'linux', /must be an object, got string/],
  // hooks and annotations
  ['relative hook path', { hooks: { prestart: [{ path: 'bin/hook' }] } }, 'hooks.prestart[0].path', /absolute path/],
  ['hook timeout of 0', { hooks: { poststop: [{ path: '/bin/true', timeout: 0 }] } }, 'hooks.poststop[0].timeout', /between 1/],
  ['hook env entry without =', { hooks: { createRuntime: [{ path: '/bin/true', env: ['X'] }] } }, 'hooks.createRuntime[0].env[0]', /KEY=VALUE/],
  ['annotation value not a string', { annotations: { 'org.example.n': 1 } }, 'annotations["org.example.n"]', /must be a string/],
];

describe('validateSpec: rejected configs name the field', () => {
  it.each(rejections)('%s', (_what, changes, field, problem) => {
    expectRejected(configWith(changes), field, problem);
  });
});

describe('validateSpec: namespaces joined by path that are the caller\'s own', () => {
  /** A stand-in for the host: /caller/<type> is the caller's namespace, /other/<type> another one, anything else missing. */
  const fakeHost: CallerNamespaces = {
    identify: (_type, path): JoinedNamespace => (path.startsWith('/caller/') ? { kind: 'callers' } : path.startsWith('/other/') ? { kind: 'other' } : { kind: 'invalid', problem: `${path} does not exist` }),
  };
  /** The default namespaces with `type` joined at `path`. */
  const joining = (type: string, path: string, changes: Record<string, unknown> = {}): Json => {
    const config = configWith(changes);
    const linux = config.linux as { namespaces: { type: string; path?: string }[] };
    linux.namespaces = [...linux.namespaces.filter((n) => n.type !== type), { type, path }];
    return config;
  };
  const refusal = (config: Json): ConfigError => {
    try {
      validateSpec(config, undefined, { callerNamespaces: fakeHost });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return err as ConfigError;
    }
    throw new Error('expected a refusal');
  };

  it.each([
    ['network', 'net.ipv4.ip_forward'],
    ['ipc', 'kernel.shmmax'],
    ['ipc', 'fs.mqueue.msg_max'],
    ['uts', 'kernel.domainname'],
  ])('a sysctl of a %s namespace joined from the caller is refused (%s)', (type, key) => {
    const config = joining(type, `/caller/${type}`, { 'linux.sysctl': { [key]: '1' }, ...(type === 'uts' ? { hostname: undefined } : {}) });
    const err = refusal(config);
    expect(err.details.field).toBe(fieldPath('linux.sysctl', key));
    expect(err.message).toMatch(new RegExp(`linux\\.namespaces\\[\\d\\] joins the caller's ${type} namespace \\(/caller/${type}\\)`));
  });

  it('hostname and domainname with the caller\'s uts namespace are refused', () => {
    expect(refusal(joining('uts', '/caller/uts')).details.field).toBe('hostname');
    expect(refusal(joining('uts', '/caller/uts', { hostname: undefined, domainname: 'x.example' })).details.field).toBe('domainname');
  });

  it('the caller\'s own mount or user namespace cannot be joined at all', () => {
    const mount = refusal(joining('mount', '/caller/mount'));
    expect(mount.details.field).toBe('linux.namespaces[4].path');
    expect(mount.message).toMatch(/the caller's own mount namespace, which tsrun would pivot_root/);
    const user = refusal(joining('user', '/caller/user', { 'linux.uidMappings': ID_MAP, 'linux.gidMappings': ID_MAP }));
    expect(user.message).toMatch(/linux\.namespaces\[5\]\.path: \/caller\/user is the caller's own user namespace/);
  });

  it('a path that cannot be joined is refused naming it', () => {
    expect(refusal(joining('pid', '/nowhere')).message).toBe('linux.namespaces[4].path: /nowhere does not exist');
  });

  it('namespaces joined from elsewhere are private: the same settings are accepted', () => {
    const config = joining('network', '/other/network', { 'linux.sysctl': { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1' } });
    (config.linux as { namespaces: unknown[] }).namespaces.push({ type: 'user', path: '/other/user' });
    expect(() => validateSpec(joining('uts', '/other/uts'), undefined, { callerNamespaces: fakeHost })).not.toThrow();
    expect(() => validateSpec(config, undefined, { callerNamespaces: fakeHost })).not.toThrow();
    expect(() => validateSpec(joining('mount', '/other/mount'), undefined, { callerNamespaces: fakeHost })).not.toThrow();
  });

  it('without host facts (exec re-checks a stored config) a join is taken as private', () => {
    expect(() => validateSpec(joining('network', '/caller/network', { 'linux.sysctl': { 'net.ipv4.ip_forward': '1' } }))).not.toThrow();
  });

  it('thisProcessNamespaces tells this process\'s namespaces from a file that is not one', () => {
    expect(thisProcessNamespaces.identify('network', '/proc/self/ns/net')).toEqual({ kind: 'callers' });
    expect(thisProcessNamespaces.identify('ipc', `/proc/${process.pid}/ns/ipc`)).toEqual({ kind: 'callers' });
    // Another type's namespace file is on nsfs too, but it is not this process's namespace of that type.
    expect(thisProcessNamespaces.identify('network', '/proc/self/ns/ipc')).toEqual({ kind: 'other' });
    expect(thisProcessNamespaces.identify('network', '/proc/self/ns/nothing')).toEqual({ kind: 'invalid', problem: '/proc/self/ns/nothing does not exist' });
    expect(thisProcessNamespaces.identify('network', '/proc/self/status')).toMatchObject({ kind: 'invalid', problem: expect.stringMatching(/is not a namespace/) });
  });
});

describe('sysctlNamespace', () => {
  it.each([
    ['kernel.msgmnb', 'ipc'],
    ['kernel.sem', 'ipc'],
    ['kernel.shm_rmid_forced', 'ipc'],
    ['fs.mqueue.msg_max', 'ipc'],
    ['net.core.somaxconn', 'network'],
    ['net/ipv4/ip_forward', 'network'],
    ['kernel.hostname', 'uts'],
    ['kernel.domainname', 'uts'],
    ['kernel.pid_max', undefined],
    ['fs.file-max', undefined],
  ])('%s → %s', (key, ns) => {
    expect(sysctlNamespace(key)).toBe(ns);
  });
});

// runtime-spec config-linux.md, "Offset for Time Namespace": linux.timeOffsets maps a clock name to
// {secs (int64), nanosecs (uint32)}; time_namespaces(7) names the clocks monotonic and boottime, and the
// kernel takes nanoseconds below one second.
describe('validateSpec: linux.timeOffsets', () => {
  const TIME_NS = [...(baseConfig().linux as { namespaces: unknown[] }).namespaces, { type: 'time' }];

  it('accepts monotonic and boottime offsets, negative seconds included', () => {
    const config = configWith({ 'linux.namespaces': TIME_NS, 'linux.timeOffsets': { monotonic: { secs: -3600 }, boottime: { secs: 86400, nanosecs: 999999999 } } });
    expect(() => validateSpec(config)).not.toThrow();
  });

  it('refuses another clock, a fraction, nanoseconds of a second or more, and a non-object, naming the field', () => {
    const at = (offsets: unknown) => configWith({ 'linux.namespaces': TIME_NS, 'linux.timeOffsets': offsets });
    expectRejected(at({ realtime: { secs: 1 } }), 'linux.timeOffsets.realtime', /clock must be one of monotonic, boottime/);
    expectRejected(at({ monotonic: { secs: 1.5 } }), 'linux.timeOffsets.monotonic.secs', /must be an integer/);
    expectRejected(at({ boottime: { nanosecs: 1000000000 } }), 'linux.timeOffsets.boottime.nanosecs', /must be between 0 and 999999999/);
    expectRejected(at({ boottime: 5 }), 'linux.timeOffsets.boottime', /must be an object/);
  });
});
