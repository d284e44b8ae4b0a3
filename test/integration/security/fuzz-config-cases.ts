// Generated bad configs for fuzz-config.test.ts. Each case starts from a valid config (the sample's,
// whose program does not exist) and applies one to three mutations, each invalid by construction:
// a wrong JSON type, a number out of the kernel's range, an unknown name where the spec lists the
// allowed ones, a bad path, a missing required field, a rule across fields broken, a list too long,
// or a document that is not a config at all. `names` are the top-level fields the mutations touched:
// the error must name one of them (or the file). Separately, `hostileValidCase` makes configs that may
// well be valid but carry odd strings (they go only through the real CLI, which must then fail
// cleanly at the missing program or earlier).
import type { Random } from './fuzz-random.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface FuzzCase {
  /** The mutations, in words, for the failure message. */
  what: string[];
  /** config.json as written. */
  text: string;
  /** Top-level fields of which the error must name one; 'config.json' for the document itself. */
  names: string[];
}

/** The program every generated config runs: absent, so that a config that passes everything still fails (at create). */
export const MISSING_PROGRAM = '/no-such-fuzz-program';

// ---------------------------------------------------------------------------------------------
// Paths inside a JSON value: `process.user.uid`, `mounts[0].destination`.

function keysOf(path: string): (string | number)[] {
  return path.split(/\.|(?=\[)/).map((k) => (k.startsWith('[') ? Number(k.slice(1, -1)) : k));
}

function setAt(root: JsonObject, path: string, value: Json | undefined): void {
  const keys = keysOf(path);
  let node: Record<string | number, Json> = root;
  keys.slice(0, -1).forEach((key, i) => {
    const next = keys[i + 1];
    if (node[key] === undefined || node[key] === null || typeof node[key] !== 'object') node[key] = typeof next === 'number' ? [] : {};
    node = node[key] as Record<string | number, Json>;
  });
  const last = keys[keys.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else delete node[last];
  } else {
    node[last] = value;
  }
}

const top = (path: string): string => String(keysOf(path)[0]);

// ---------------------------------------------------------------------------------------------
// The catalogue.

type Kind = 'string' | 'bool' | 'int' | 'array' | 'object' | 'strings';

/** Fields tsrun reads, with their JSON kind (paths into arrays use the base config's first entries). */
const TYPED_FIELDS: [string, Kind][] = [
  ['ociVersion', 'string'], ['root', 'object'], ['root.path', 'string'], ['root.readonly', 'bool'],
  ['mounts', 'array'], ['mounts[0]', 'object'], ['mounts[0].destination', 'string'], ['mounts[0].type', 'string'],
  ['mounts[0].source', 'string'], ['mounts[1].options', 'strings'], ['mounts[0].uidMappings', 'array'],
  ['process', 'object'], ['process.terminal', 'bool'], ['process.consoleSize', 'object'], ['process.consoleSize.height', 'int'],
  ['process.user', 'object'], ['process.user.uid', 'int'], ['process.user.gid', 'int'], ['process.user.umask', 'int'],
  ['process.user.additionalGids', 'array'], ['process.user.username', 'string'], ['process.args', 'strings'],
  ['process.env', 'strings'], ['process.cwd', 'string'], ['process.capabilities', 'object'],
  ['process.capabilities.bounding', 'strings'], ['process.capabilities.ambient', 'strings'], ['process.rlimits', 'array'],
  ['process.rlimits[0]', 'object'], ['process.rlimits[0].hard', 'int'], ['process.rlimits[0].soft', 'int'],
  ['process.rlimits[0].type', 'string'], ['process.noNewPrivileges', 'bool'], ['process.oomScoreAdj', 'int'],
  ['process.apparmorProfile', 'string'], ['hostname', 'string'], ['domainname', 'string'], ['hooks', 'object'],
  ['hooks.prestart', 'array'], ['hooks.poststop', 'array'], ['annotations', 'object'], ['linux', 'object'],
  ['linux.namespaces', 'array'], ['linux.namespaces[0]', 'object'], ['linux.namespaces[0].type', 'string'],
  ['linux.namespaces[1].path', 'string'], ['linux.uidMappings', 'array'], ['linux.gidMappings', 'array'],
  ['linux.devices', 'array'], ['linux.cgroupsPath', 'string'], ['linux.resources', 'object'],
  ['linux.resources.devices', 'array'], ['linux.resources.memory', 'object'], ['linux.resources.memory.limit', 'int'],
  ['linux.resources.cpu', 'object'], ['linux.resources.cpu.shares', 'int'], ['linux.resources.pids', 'object'],
  ['linux.resources.pids.limit', 'int'], ['linux.resources.blockIO', 'object'], ['linux.resources.blockIO.weight', 'int'],
  ['linux.resources.hugepageLimits', 'array'], ['linux.resources.unified', 'object'], ['linux.rootfsPropagation', 'string'],
  ['linux.seccomp', 'object'], ['linux.seccomp.defaultAction', 'string'], ['linux.seccomp.syscalls', 'array'],
  ['linux.sysctl', 'object'], ['linux.maskedPaths', 'strings'], ['linux.readonlyPaths', 'strings'],
  ['linux.mountLabel', 'string'], ['linux.personality', 'object'],
];

const BIG_STRING = 'x'.repeat(5000);
const WRONG_VALUES: Record<Kind, Json[]> = {
  string: [null, true, false, 0, -1, 1.5, [], {}, ['a'], { a: 'b' }],
  bool: [null, 0, 1, 'true', 'false', '', [], {}],
  int: [null, true, '1', '', 1.5, -0.25, 1e-7, [], {}, [1], BIG_STRING],
  array: [null, true, 0, 'x', '', {}, { 0: 'a' }],
  object: [null, true, 0, 'x', '', [], [{}]],
  strings: [null, true, 0, 'x', {}, [1], [null], [{}], [[]], [true], ['a', 2]],
};

/** Numbers (and number-like settings) out of the range the kernel or the spec allows. */
const OUT_OF_RANGE: [string, Json[]][] = [
  ['process.user.uid', [-1, 4294967295, 2 ** 40, 1e30, -1e30]],
  ['process.user.gid', [-1, 4294967295, 2 ** 53]],
  ['process.user.umask', [-1, 512, 4294967296]],
  ['process.user.additionalGids', [[-1], [4294967295], [0, 1e20]]],
  ['process.oomScoreAdj', [-1001, 1001, 2 ** 31, -(2 ** 31)]],
  ['process.rlimits[0].hard', [-1, 1e30, 2 ** 65]],
  ['process.rlimits[0].soft', [-5, 1e25, 2048]],
  ['process.consoleSize', [{ height: 65536, width: 80 }, { height: 24, width: -1 }, { height: 1e10, width: 1 }]],
  ['linux.devices', [
    [{ type: 'c', path: '/dev/fz', major: 4096, minor: 0 }], [{ type: 'c', path: '/dev/fz', major: 1, minor: 1048576 }],
    [{ type: 'b', path: '/dev/fz', major: -1, minor: 0 }], [{ type: 'c', path: '/dev/fz', major: 1, minor: 3, fileMode: 0o10000 }],
    [{ type: 'p', path: '/dev/fz', uid: 4294967295 }], [{ type: 'c', path: '/dev/fz', major: 1.5, minor: 3 }],
  ]],
  ['hooks.createRuntime', [[{ path: '/bin/true', timeout: 0 }], [{ path: '/bin/true', timeout: 2147484 }], [{ path: '/bin/true', timeout: -3 }]]],
  ['linux.resources.memory.swappiness', [101, -1, 1e9]],
  ['linux.resources.memory.limit', [-2, 1e300, -1e300, 2 ** 64]],
  ['linux.resources.devices', [[{ allow: true, type: 'c', major: 2 ** 40, access: 'r' }], [{ allow: false, minor: -2 }]]],
  ['linux.resources.blockIO.weight', [65536, -1]],
  ['linux.resources.cpu.shares', [-1, 2 ** 65]],
  ['linux.seccomp', [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 70000 }, { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: -1 }] }]],
  ['process.env', [[`BIG=${'y'.repeat(140_000)}`]]],
];

/** Names the spec or the kernel lists exhaustively: anything else is refused. */
const UNKNOWN_NAMES: [string, Json[]][] = [
  ['ociVersion', ['2.0.0', '0.1', 'x', '', '1.0.2\n']],
  ['linux.namespaces[0].type', ['nett', 'PID', '', 'time2']],
  ['process.capabilities.bounding', [['CAP_FLY'], ['net_admin'], ['CAP_41'], ['']]],
  ['process.rlimits[0].type', ['RLIMIT_FILES', 'rlimit_nofile', '']],
  ['linux.devices', [[{ type: 'x', path: '/dev/fz', major: 1, minor: 1 }]]],
  ['linux.rootfsPropagation', ['recursive', 'SHARED', '']],
  ['linux.seccomp', [{ defaultAction: 'SCMP_ACT_BOGUS' }, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }]],
  ['linux.resources.devices', [[{ allow: true, access: 'rwx' }], [{ allow: true, type: 'u' }]]],
  ['linux.sysctl', [{ 'vm.swappiness': '10' }, { 'kernel.pid_max': '1' }, { 'net..x': '1' }, { '': '1' }, { 'user.max_user_namespaces': '0' }]],
  ['linux.cgroupsPath', ['../escape', '/a/../b', 'system.slice:fz:x', '/']],
];

/** A bad path for a field that takes one. */
function badPath(r: Random): Json {
  return r.pick<Json>([
    'relative/path', '', `/${'p/'.repeat(2100)}`, `/${'n'.repeat(256)}`, '/a\u0000b', '/a\nb', '/tab\there', `/${r.anyText(8)}\u0001`,
  ]);
}
const PATH_FIELDS = [
  'mounts[0].destination', 'process.cwd', 'linux.namespaces[1].path', 'hooks.prestart[0].path', 'linux.devices[0].path',
  'linux.maskedPaths[0]', 'linux.readonlyPaths[0]',
];

const REQUIRED = [
  'ociVersion', 'root', 'root.path', 'process', 'process.user', 'process.user.uid', 'process.user.gid', 'process.args',
  'process.cwd', 'mounts[0].destination', 'linux.namespaces[0].type', 'process.rlimits[0].type', 'process.rlimits[0].hard',
  'process.rlimits[0].soft',
];

/** Rules across fields, each broken on purpose (the first field named is the one the error should name). */
const BROKEN_RULES: { what: string; apply(c: JsonObject): void; names: string[] }[] = [
  { what: 'hostname without a uts namespace', names: ['hostname', 'linux'], apply: (c) => dropNamespace(c, 'uts') },
  { what: 'a host-wide sysctl', names: ['linux'], apply: (c) => setAt(c, 'linux.sysctl', { 'fs.file-max': '1' }) },
  { what: 'a net sysctl without a network namespace', names: ['linux'], apply: (c) => { dropNamespace(c, 'network'); setAt(c, 'linux.sysctl', { 'net.ipv4.ip_forward': '1' }); } },
  { what: 'a net sysctl in the caller\'s network namespace', names: ['linux'], apply: (c) => { dropNamespace(c, 'network'); pushNamespace(c, { type: 'network', path: '/proc/self/ns/net' }); setAt(c, 'linux.sysctl', { 'net.ipv4.ip_forward': '1' }); } },
  { what: 'an ipc sysctl without an ipc namespace', names: ['linux'], apply: (c) => { dropNamespace(c, 'ipc'); setAt(c, 'linux.sysctl', { 'kernel.shmmax': '1' }); } },
  { what: 'a duplicate namespace', names: ['linux'], apply: (c) => pushNamespace(c, { type: 'pid' }) },
  { what: 'a duplicate rlimit', names: ['process'], apply: (c) => setAt(c, 'process.rlimits', [{ type: 'RLIMIT_NOFILE', hard: 1, soft: 1 }, { type: 'RLIMIT_NOFILE', hard: 2, soft: 2 }]) },
  { what: 'uid mappings without a user namespace', names: ['linux'], apply: (c) => { dropNamespace(c, 'user'); setAt(c, 'linux.uidMappings', [{ containerID: 0, hostID: 1000, size: 1 }]); } },
  { what: 'a new user namespace without mappings', names: ['linux'], apply: (c) => pushNamespace(c, { type: 'user' }) },
  { what: 'overlapping uid mappings', names: ['linux'], apply: (c) => { pushNamespace(c, { type: 'user' }); setAt(c, 'linux.uidMappings', [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 5000, size: 10 }]); setAt(c, 'linux.gidMappings', [{ containerID: 0, hostID: 1000, size: 10 }]); } },
  { what: 'masked paths without a mount namespace', names: ['linux'], apply: (c) => { dropNamespace(c, 'mount'); setAt(c, 'linux.maskedPaths', ['/proc/kcore']); } },
  { what: 'a remount without a mount namespace', names: ['mounts', 'linux'], apply: (c) => { dropNamespace(c, 'mount'); setAt(c, 'linux.maskedPaths', undefined); setAt(c, 'linux.readonlyPaths', undefined); setAt(c, 'mounts[0].options', ['remount']); } },
  { what: 'joining the caller\'s mount namespace', names: ['linux'], apply: (c) => { dropNamespace(c, 'mount'); pushNamespace(c, { type: 'mount', path: '/proc/self/ns/mnt' }); } },
  { what: 'joining a namespace that does not exist', names: ['linux'], apply: (c) => { dropNamespace(c, 'ipc'); pushNamespace(c, { type: 'ipc', path: '/proc/self/ns/nothing' }); } },
  { what: 'joining a file that is not a namespace', names: ['linux'], apply: (c) => { dropNamespace(c, 'uts'); setAt(c, 'hostname', undefined); pushNamespace(c, { type: 'uts', path: '/etc/hostname' }); } },
  { what: 'a char device without a major', names: ['linux'], apply: (c) => setAt(c, 'linux.devices', [{ type: 'c', path: '/dev/fz', minor: 1 }]) },
  { what: 'soft rlimit above hard', names: ['process'], apply: (c) => setAt(c, 'process.rlimits', [{ type: 'RLIMIT_NOFILE', hard: 10, soft: 11 }]) },
  { what: 'root.readonly without a mount namespace', names: ['root', 'linux'], apply: (c) => { dropNamespace(c, 'mount'); setAt(c, 'linux.maskedPaths', undefined); setAt(c, 'linux.readonlyPaths', undefined); setAt(c, 'root.readonly', true); } },
  { what: 'time offsets without a new time namespace', names: ['linux'], apply: (c) => setAt(c, 'linux.timeOffsets', { monotonic: { secs: 1, nanosecs: 0 } }) },
  { what: 'a kernel.hostname sysctl next to hostname', names: ['linux'], apply: (c) => setAt(c, 'linux.sysctl', { 'kernel.hostname': 'x' }) },
  { what: 'a bind mount without a source', names: ['mounts'], apply: (c) => setAt(c, 'mounts[0]', { destination: '/fz', options: ['bind'] }) },
  { what: 'a mount without a type', names: ['mounts'], apply: (c) => setAt(c, 'mounts[0]', { destination: '/fz' }) },
  { what: 'a bind mount of a source that does not exist', names: ['mounts'], apply: (c) => setAt(c, 'mounts[0]', { destination: '/fz', type: 'bind', source: '/no/such/fuzz/source', options: ['rbind'] }) },
  { what: 'a root that does not exist', names: ['root'], apply: (c) => setAt(c, 'root.path', '/no/such/fuzz/rootfs') },
  { what: 'a terminal without a console socket', names: ['process'], apply: (c) => setAt(c, 'process.terminal', true) },
  { what: 'disableOOMKiller', names: ['linux'], apply: (c) => setAt(c, 'linux.resources.memory', { disableOOMKiller: true }) },
  { what: 'a limit of a controller the host lacks or a page size it has not', names: ['linux'], apply: (c) => setAt(c, 'linux.resources.hugepageLimits', [{ pageSize: '3MB', limit: 1 }]) },
  { what: 'an execve total beyond 6 MiB', names: ['process'], apply: (c) => setAt(c, 'process.env', Array.from({ length: 60 }, (_, i) => `V${i}=${'z'.repeat(110_000)}`)) },
];

function namespaces(c: JsonObject): JsonObject[] {
  const linux = (c['linux'] ??= {}) as JsonObject;
  return ((linux['namespaces'] ??= []) as JsonObject[]);
}
function dropNamespace(c: JsonObject, type: string): void {
  const list = namespaces(c);
  (c['linux'] as JsonObject)['namespaces'] = list.filter((n) => n['type'] !== type);
}
function pushNamespace(c: JsonObject, ns: JsonObject): void {
  namespaces(c).push(ns);
}

/** Lists longer than tsrun takes (4096 in general; 340 id ranges; 65535 gids; 65534 exec strings). */
function hugeList(c: JsonObject, r: Random): { what: string; names: string[] } {
  const big = r.chance(0.03) ? 100_000 : r.int(4097, 6000);
  const which = r.int(0, 7);
  const make = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
  switch (which) {
    case 0: setAt(c, 'mounts', make(big, (i) => ({ destination: `/m/${i}`, type: 'tmpfs', source: 'tmpfs' }))); return { what: `${big} mounts`, names: ['mounts'] };
    case 1: setAt(c, 'linux.devices', make(big, (i) => ({ type: 'p', path: `/dev/p${i}` }))); return { what: `${big} devices`, names: ['linux'] };
    case 2: setAt(c, 'linux.maskedPaths', make(big, (i) => `/proc/m${i}`)); return { what: `${big} masked paths`, names: ['linux'] };
    case 3: setAt(c, 'process.env', make(65534 + r.int(1, 40_000), (i) => `E${i}=`)); return { what: 'too many env entries', names: ['process'] };
    case 4: setAt(c, 'process.user.additionalGids', make(65536 + r.int(0, 1000), (i) => i)); return { what: 'too many gids', names: ['process'] };
    case 5: {
      pushNamespace(c, { type: 'user' });
      setAt(c, 'linux.uidMappings', make(341 + r.int(0, 100), (i) => ({ containerID: i, hostID: 100_000 + i, size: 1 })));
      setAt(c, 'linux.gidMappings', [{ containerID: 0, hostID: 100_000, size: 65536 }]);
      return { what: 'too many uid ranges', names: ['linux'] };
    }
    case 6: setAt(c, 'linux.resources.devices', make(big, () => ({ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }))); return { what: `${big} device rules`, names: ['linux'] };
    default: setAt(c, 'process.capabilities.bounding', make(big, () => 'CAP_KILL')); return { what: `${big} capabilities`, names: ['process'] };
  }
}

/**
 * One mutation of kind `kind` (0..99), applied to `c` in place. Kinds 55 and up change structure
 * (rules across fields, paths, long lists) and go first; below 55 a single value is set (a wrong type,
 * an out-of-range number, an unknown name) or removed: applied last, nothing can make them valid again.
 */
function mutate(c: JsonObject, r: Random, kind: number): { what: string; names: string[] } {
  if (kind < 30) {
    const [path, k] = r.pick(TYPED_FIELDS);
    const value = r.pick(WRONG_VALUES[k]);
    setAt(c, path, value);
    return { what: `${path} = ${JSON.stringify(value)?.slice(0, 60)}`, names: [top(path)] };
  }
  if (kind < 45) {
    const [path, values] = r.pick(OUT_OF_RANGE);
    const value = r.pick(values);
    setAt(c, path, value);
    return { what: `${path} = ${JSON.stringify(value).slice(0, 80)}`, names: [top(path)] };
  }
  if (kind < 55) {
    const [path, values] = r.pick(UNKNOWN_NAMES);
    const value = r.pick(values);
    setAt(c, path, value);
    return { what: `${path} = ${JSON.stringify(value)}`, names: [top(path)] };
  }
  if (kind >= 92) {
    const path = r.pick(REQUIRED);
    setAt(c, path, undefined);
    return { what: `no ${path}`, names: [top(path)] };
  }
  if (kind < 67) {
    const path = r.pick(PATH_FIELDS);
    const value = badPath(r);
    if (path === 'hooks.prestart[0].path') setAt(c, 'hooks.prestart', [{ path: '/bin/true' }]);
    if (path === 'linux.devices[0].path') setAt(c, 'linux.devices', [{ type: 'p', path: '/dev/fz' }]);
    setAt(c, path, value);
    return { what: `${path} = ${JSON.stringify(value).slice(0, 60)}`, names: [top(path)] };
  }
  if (kind < 84) {
    const rule = r.pick(BROKEN_RULES);
    rule.apply(c);
    return { what: rule.what, names: rule.names };
  }
  return hugeList(c, r);
}

/** Offsets in minified JSON text where a character would not fall inside a string. */
function offsetsOutsideStrings(text: string): number[] {
  const out: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    if (!inString) out.push(i);
    if (text[i] === '"' && text[i - 1] !== '\\') inString = !inString;
  }
  return out.filter((i) => i > 0);
}

/** A document that is not a valid config at all (not JSON, not an object, too deep, a NUL in a key…). */
function badDocument(base: string, r: Random): FuzzCase {
  const options: [string, () => string][] = [
    ['truncated JSON', () => base.slice(0, r.int(0, base.length - 1))],
    // Outside strings (inside one, a stray byte may well leave valid JSON and a valid config).
    ['a stray byte', () => { const at = r.pick(offsetsOutsideStrings(base)); return base.slice(0, at) + r.pick(['x', ':', '\u0000', '\\', '#']) + base.slice(at); }],
    ['random text', () => r.anyText(r.int(0, 200))],
    ['JSON that is not an object', () => r.pick(['[]', 'null', '0', '"x"', 'true', '[{}]', '1e999', '-0'])],
    ['a byte-order mark', () => `\ufeff${base}`],
    ['deep nesting', () => { const n = r.chance(0.2) ? 100_000 : r.int(65, 5000); return `${base.slice(0, -1)},"vendor":${'['.repeat(n)}${']'.repeat(n)}}`; }],
    ['deep nesting under a known field', () => { const n = r.int(63, 3000); return base.replace('"cwd":"/"', `"cwd":"/","vendor":${'['.repeat(n)}${']'.repeat(n)}`); }],
    ['a NUL in a required key', () => base.replace('"ociVersion"', '"ociVersion\\u0000"')],
    ['unbalanced brackets', () => `${base}${r.pick(['}', ']', '{', '['])}`],
  ];
  const [what, make] = r.pick(options);
  return { what: [what], text: make(), names: ['config.json', 'config', 'ociVersion', 'process', 'vendor'] };
}

/** A generated bad config from the valid `base` object. */
export function badConfigCase(base: JsonObject, r: Random): FuzzCase {
  const baseText = JSON.stringify(base);
  if (r.chance(0.12)) return badDocument(baseText, r);
  const c = JSON.parse(baseText) as JsonObject;
  const n = r.pick([1, 1, 1, 2, 3]);
  // Structure first, single values (and removals) last: see mutate.
  const order = (k: number): number => (k >= 55 && k < 92 ? 0 : 1);
  const kinds = Array.from({ length: n }, () => r.int(0, 99)).sort((a, b) => order(a) - order(b));
  const what: string[] = [];
  const names = new Set<string>();
  for (const kind of kinds) {
    const m = mutate(c, r, kind);
    what.push(m.what);
    for (const name of m.names) names.add(name);
  }
  // A mutation that replaced a whole object (root, process, linux…) can be named by its parent's refusal.
  return { what, text: JSON.stringify(c), names: [...names, 'config'] };
}

/** A bad container id (as `create` gets it on its command line: no NUL). */
export function badId(r: Random): string {
  return r.pick([
    () => 'a'.repeat(r.int(201, 5000)),
    () => `x/${r.string(5, 'abc')}`,
    () => '..',
    () => `a..${r.string(3, 'xyz')}`,
    () => `-${r.string(4, 'abc')}`,
    () => `.${r.string(4, 'abc')}`,
    () => '',
    () => `${r.string(3, 'abc')} ${r.string(3, 'abc')}`,
    () => `${r.string(3, 'abc')}${r.anyText(3).replaceAll('\u0000', '')}é`,
    () => `id\n${r.string(3, 'abc')}`,
  ])();
}

/**
 * A config that may be valid but carries hostile strings: odd destinations, hostnames, env values,
 * annotations, sysctls that do not exist. Only for the real CLI (it may get as far as creating).
 */
export function hostileValidCase(base: JsonObject, r: Random): FuzzCase {
  const c = JSON.parse(JSON.stringify(base)) as JsonObject;
  const what: string[] = [];
  const printable = 'abcXYZ019 ._-~!$&\'()*+,;=@%"<>|?#[]{}éß中😀';
  const n = r.int(1, 3);
  for (let i = 0; i < n; i++) {
    switch (r.int(0, 6)) {
      case 0: {
        const dest = `/${r.string(r.int(1, 30), printable)}/${r.pick(['..', '.', '', 'x'])}/${r.string(r.int(1, 20), printable)}`;
        (c['mounts'] as JsonObject[]).push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: ['size=1k'] });
        what.push(`mount at ${JSON.stringify(dest)}`);
        break;
      }
      case 1: {
        const name = r.string(r.int(1, 64), 'abcdefghij-.0123456789');
        c['hostname'] = name;
        what.push(`hostname ${JSON.stringify(name)}`);
        break;
      }
      case 2: {
        const env = `FZ=${r.anyText(r.int(0, 300)).replaceAll('\u0000', '')}`;
        ((c['process'] as JsonObject)['env'] as string[]).push(env);
        what.push('an odd env value');
        break;
      }
      case 3: {
        const key = `org.fuzz.${r.anyText(r.int(1, 20))}`;
        c['annotations'] = { [key]: r.anyText(r.int(0, 100)).replaceAll('\u0000', '') };
        what.push('odd annotations');
        break;
      }
      case 4: {
        const key = `net.fuzz.${r.string(r.int(1, 30), 'abcxyz_')}`;
        ((c['linux'] as JsonObject)['sysctl'] = { [key]: '1' });
        what.push(`sysctl ${key}`);
        break;
      }
      case 5: {
        const opts = [r.pick(['size=1k', 'mode=1777', 'nosuid', 'bogus-option', 'uid=4294967295', 'nr_inodes=-1', `x=${r.string(200, 'ab')}`])];
        (c['mounts'] as JsonObject[]).push({ destination: '/fuzzopt', type: r.pick(['tmpfs', 'proc', 'nosuchfs', 'mqueue']), source: 'fz', options: opts });
        what.push(`mount options ${JSON.stringify(opts)}`);
        break;
      }
      default: {
        const cwd = `/${r.string(r.int(1, 40), printable)}`;
        (c['process'] as JsonObject)['cwd'] = cwd;
        what.push(`cwd ${JSON.stringify(cwd)}`);
      }
    }
  }
  return { what, text: JSON.stringify(c), names: [] };
}
