// Limits of what a config (and a container id) may be, checked before anything is made: document
// size and depth, ids, the kernel's ranges for numbers, paths and lists, execve's limits.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, TsrunError } from '../../../src/errors.js';
import { loadBundle } from '../../../src/oci/bundle.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import { MAX_JSON_DEPTH, tooDeepAt } from '../../../src/oci/json-limits.js';
import type { IdMapping, Spec } from '../../../src/oci/types.js';
import { validateSpec } from '../../../src/oci/validate.js';
import { MAX_ID_LENGTH, validateId } from '../../../src/state/ids.js';

const nested = (levels: number): string => `${'['.repeat(levels)}${']'.repeat(levels)}`;

describe('tooDeepAt (image documents)', () => {
  it('finds the first bracket past the limit; the document is level 1', () => {
    expect(tooDeepAt(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(tooDeepAt(nested(MAX_JSON_DEPTH + 1))).toBe(MAX_JSON_DEPTH);
    expect(tooDeepAt(`{"a":${nested(MAX_JSON_DEPTH)}}`)).toBe(5 + MAX_JSON_DEPTH - 1);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const inString = JSON.stringify({ s: `\\"${'['.repeat(500)}"` });
    expect(tooDeepAt(inString)).toBeUndefined();
    expect(tooDeepAt(`["\\\\", ${nested(3)}]`, 3)).toBe(9);
  });

  it('copes with text that is not JSON (the parser reports it)', () => {
    expect(tooDeepAt('"never closed [[[[')).toBeUndefined();
    expect(tooDeepAt(']]]][[[', 2)).toBeUndefined();
  });
});

describe('loadBundle: the document', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tsrun-badin-')); mkdirSync(join(dir, 'rootfs')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const loadError = (): TsrunError => {
    try { loadBundle(dir); } catch (err) { expect(err).toBeInstanceOf(TsrunError); return err as TsrunError; }
    throw new Error('expected a refusal');
  };

  it('refuses nesting beyond the limit in a field tsrun does not know, naming it', () => {
    const config = JSON.stringify(defaultSpec(), null, 1);
    writeFileSync(join(dir, 'config.json'), `${config.slice(0, -1)},\n"deep": ${nested(100_000)}}`);
    expect(loadError().message).toBe('deep: nested more than 64 levels deep (the document is level 1)');
  });

  it('a syntax error is one printable line, whatever the text holds (V8 quotes the input, newlines and all)', () => {
    const cases: [string, string][] = [
      [`/\n\u0001${'x'.repeat(50)}`, "invalid JSON at line 1, column 1: Unexpected token '/'"],
      ['\u0001', "invalid JSON at line 1, column 1: Unexpected token '\\u0001'"],
      ['{}x\n', 'invalid JSON at line 1, column 3: Unexpected non-whitespace character after the JSON value'],
      ['{"a":"\n"}', 'invalid JSON at line 1, column 7: Bad control character in string literal'],
    ];
    for (const [text, message] of cases) {
      writeFileSync(join(dir, 'config.json'), text);
      expect(loadError().message).toBe(`${join(dir, 'config.json')}: ${message}`);
    }
  });

  it('refuses a FIFO without waiting for a writer, and a config above 16 MiB without reading it', () => {
    execFileSync('mkfifo', [join(dir, 'config.json')]);
    expect(loadError().message).toBe(`${join(dir, 'config.json')}: is a FIFO, not a regular file`);
    rmSync(join(dir, 'config.json'));
    writeFileSync(join(dir, 'config.json'), '');
    execFileSync('truncate', ['-s', '17M', join(dir, 'config.json')]);
    expect(loadError().message).toBe(`${join(dir, 'config.json')}: is 17.0 MiB; a config may be at most 16 MiB`);
  });
});

describe('validateSpec: depth', () => {
  /** The default spec with `value` at the dotted path (created as objects on the way). */
  const withAt = (path: string, value: unknown): unknown => {
    const spec = JSON.parse(JSON.stringify(defaultSpec())) as Record<string, unknown>;
    const keys = path.split('.');
    let node = spec;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]!] = value;
    return spec;
  };
  const refusal = (raw: unknown): string => {
    try { validateSpec(raw); } catch (e) { return (e as Error).message; }
    return 'accepted';
  };
  const levels = (n: number): unknown => JSON.parse(nested(n)) as unknown;

  it('counts the document as level 1: an unknown top-level field may hold 63 levels, not 64', () => {
    expect(refusal(withAt('vendor', levels(63)))).toBe('accepted');
    expect(refusal(withAt('vendor', levels(64)))).toBe('vendor: nested more than 64 levels deep (the document is level 1)');
  });

  it('looks into unknown fields at any level and into free-form objects, without recursion', () => {
    expect(refusal(withAt('process.vendor', levels(62)))).toBe('accepted');
    expect(refusal(withAt('process.vendor', levels(63)))).toMatch(/^process\.vendor: nested more than 64/);
    expect(refusal(withAt('linux.personality', { domain: 'LINUX', x: levels(100_000) }))).toMatch(/^linux\.personality: nested more than 64/);
    const spec = withAt('mounts', [{ destination: '/x', type: 'tmpfs', vendor: levels(100) }]);
    expect(refusal(spec)).toMatch(/^mounts\[0\]\.vendor: nested more than 64/);
  });

  it('does not count the dots of a quoted key as levels', () => {
    const spec = JSON.parse(JSON.stringify(defaultSpec())) as Record<string, unknown>;
    spec['org.example.with.many.dots'] = levels(63);
    expect(refusal(spec)).toBe('accepted');
    spec['org.example.with.many.dots'] = levels(64);
    expect(refusal(spec)).toBe('["org.example.with.many.dots"]: nested more than 64 levels deep (the document is level 1)');
  });
});

describe('validateId', () => {
  it('accepts up to MAX_ID_LENGTH characters and refuses longer ones, quoting only their start', () => {
    expect(validateId('a'.repeat(MAX_ID_LENGTH))).toBe('a'.repeat(MAX_ID_LENGTH));
    expect(() => validateId('a'.repeat(MAX_ID_LENGTH + 1))).toThrow(`invalid container id "${'a'.repeat(40)}…" (201 characters): at most 200 characters`);
  });

  it('still refuses what could name another path, in full when short', () => {
    for (const id of ['a/b', '..', 'a..b', '-x', '', '.hidden', 'a b', 'é']) expect(() => validateId(id)).toThrow(`invalid container id ${JSON.stringify(id)}: use letters`);
  });
});

/** The default spec with a change; refused naming `field` with a problem matching `problem`. */
function expectRefused(mutate: (s: Spec) => void, field: string, problem: RegExp): void {
  const spec = defaultSpec();
  mutate(spec);
  try {
    validateSpec(JSON.parse(JSON.stringify(spec)));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).details.field).toBe(field);
    expect((err as ConfigError).message).toMatch(problem);
    expect((err as ConfigError).message).not.toContain('\n');
    return;
  }
  throw new Error(`expected ${field} to be refused`);
}

const accepted = (mutate: (s: Spec) => void): void => {
  const spec = defaultSpec();
  mutate(spec);
  expect(() => validateSpec(JSON.parse(JSON.stringify(spec)))).not.toThrow();
};

describe('validateSpec: the kernel\'s ranges', () => {
  it('uid and gid 4294967295 ((uid_t)-1: "unchanged") are refused; 4294967294 is a uid', () => {
    expectRefused((s) => { s.process!.user.uid = 2 ** 32 - 1; }, 'process.user.uid', /between 0 and 4294967294/);
    expectRefused((s) => { s.process!.user.gid = 2 ** 32 - 1; }, 'process.user.gid', /between 0 and 4294967294/);
    expectRefused((s) => { s.linux!.devices = [{ type: 'p', path: '/dev/f', uid: 2 ** 32 - 1 }]; }, 'linux.devices[0].uid', /4294967294/);
    accepted((s) => { s.process!.user.uid = 2 ** 32 - 2; });
  });

  it('64-bit values: RLIM_INFINITY as JSON writes it is accepted, anything larger is not', () => {
    accepted((s) => { s.process!.rlimits = [{ type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 0 }]; });
    expectRefused((s) => { s.process!.rlimits = [{ type: 'RLIMIT_CORE', hard: 1e20, soft: 0 }]; }, 'process.rlimits[0].hard', /between 0 and 18446744073709551615, got 100000000000000000000/);
    expectRefused((s) => { s.linux!.resources = { memory: { limit: -1e300 } }; }, 'linux.resources.memory.limit', /between -9223372036854775808 and 9223372036854775807, got -1e\+300/);
  });

  it('device numbers fit dev_t; file modes are permission bits only; wildcards in rules are -1 or null', () => {
    accepted((s) => { s.linux!.devices = [{ type: 'c', path: '/dev/x', major: 4095, minor: 1048575, fileMode: 0o7777 }]; });
    expectRefused((s) => { s.linux!.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 1048576 }]; }, 'linux.devices[0].minor', /between 0 and 1048575/);
    expectRefused((s) => { s.linux!.devices = [{ type: 'c', path: '/dev/x', major: -1, minor: 1 }]; }, 'linux.devices[0].major', /between 0 and 4095/);
    expectRefused((s) => { s.linux!.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 1, fileMode: 0o10000 }]; }, 'linux.devices[0].fileMode', /between 0 and 4095/);
    accepted((s) => { s.linux!.resources = { devices: [{ allow: false, major: -1, minor: null, access: 'rwm' }] }; });
    expectRefused((s) => { s.linux!.resources = { devices: [{ allow: true, type: 'c', major: 2 ** 40, access: 'r' }] }; }, 'linux.resources.devices[0].major', /between -1 and 4095/);
  });

  it('umask, console size, swappiness, hook timeouts', () => {
    expectRefused((s) => { s.process!.user.umask = 0o1000; }, 'process.user.umask', /between 0 and 511/);
    expectRefused((s) => { s.process!.consoleSize = { height: 65536, width: 80 }; }, 'process.consoleSize.height', /between 0 and 65535/);
    expectRefused((s) => { s.linux!.resources = { memory: { swappiness: 101 } }; }, 'linux.resources.memory.swappiness', /between 0 and 100/);
    expectRefused((s) => { s.hooks = { poststop: [{ path: '/bin/true', timeout: 2147484 }] }; }, 'hooks.poststop[0].timeout', /between 1 and 2147483/);
    accepted((s) => { s.hooks = { poststop: [{ path: '/bin/true', timeout: 2147483 }] }; });
  });

  it('id maps that wrap past 2^32-1 or overlap are refused (the kernel would say EINVAL after the clone)', () => {
    const userns = (s: Spec, uid: IdMapping[]): void => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = uid;
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    };
    accepted((s) => userns(s, [{ containerID: 0, hostID: 0, size: 4294967295 }]));
    expectRefused((s) => userns(s, [{ containerID: 1, hostID: 0, size: 4294967295 }]), 'linux.uidMappings[0]', /containerID \+ size must be at most 4294967295, got 4294967296/);
    expectRefused((s) => userns(s, [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 5, hostID: 2000, size: 10 }]), 'linux.uidMappings[1]', /containerID range overlaps linux\.uidMappings\[0\]/);
    expectRefused((s) => userns(s, [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 10, hostID: 1009, size: 10 }]), 'linux.uidMappings[1]', /hostID range overlaps/);
    accepted((s) => userns(s, [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 10, hostID: 1010, size: 10 }]));
  });
});

describe('validateSpec: strings, paths and lists', () => {
  it('a NUL anywhere is refused, in values and in keys', () => {
    expectRefused((s) => { s.process!.env = ['A=\u0000']; }, 'process.env[0]', /must not contain a NUL character/);
    expectRefused((s) => { s.annotations = { 'k\u0000': 'v' }; }, 'annotations["k\\u0000"]', /NUL/);
  });

  it('paths: PATH_MAX and NAME_MAX bytes, no control characters (multi-byte characters counted in bytes)', () => {
    accepted((s) => { s.process!.cwd = `/${'é'.repeat(127)}`; });
    expectRefused((s) => { s.process!.cwd = `/${'é'.repeat(128)}`; }, 'process.cwd', /component longer than 255 bytes/);
    expectRefused((s) => { s.mounts![0]!.destination = `/${'x/'.repeat(2048)}`; }, 'mounts[0].destination', /at most 4095 bytes/);
    expectRefused((s) => { s.mounts![0]!.destination = '/a\nb'; }, 'mounts[0].destination', /control characters, got "\/a\\nb"/);
    expectRefused((s) => { s.root!.path = 'root\tfs'; }, 'root.path', /control characters/);
  });

  it('sysctl keys are sysctl names', () => {
    expectRefused((s) => { s.linux!.sysctl = { 'net..ipv4': '1' }; }, 'linux.sysctl["net..ipv4"]', /sysctl name/);
    expectRefused((s) => { s.linux!.sysctl = { 'net.ipv4/': '1' }; }, 'linux.sysctl["net.ipv4/"]', /sysctl name/);
  });

  it('lists longer than 4096 entries are refused, naming the list', () => {
    expectRefused((s) => { s.mounts = Array.from({ length: 4097 }, () => ({ destination: '/m', type: 'tmpfs' })); }, 'mounts', /has 4097 entries; at most 4096$/);
    expectRefused((s) => { s.linux!.maskedPaths = Array.from({ length: 5000 }, () => '/proc/kcore'); }, 'linux.maskedPaths', /at most 4096/);
    expectRefused((s) => { s.process!.user.additionalGids = Array.from({ length: 65536 }, (_, i) => i); }, 'process.user.additionalGids', /at most 65535/);
  });

  it('execve\'s limits: the count tsrun passes, MAX_ARG_STRLEN, and the total under RLIMIT_STACK', () => {
    expectRefused((s) => { s.process!.env = Array.from({ length: 65534 }, (_, i) => `V${i}=`); }, 'process.env', /with the 1 of process\.args that is more than the 65534 strings/);
    expectRefused((s) => { s.process!.args = ['sh', 'x'.repeat(131072)]; }, 'process.args[1]', /is 131072 bytes; execve takes at most 131071/);
    accepted((s) => { s.process!.args = ['sh', 'x'.repeat(131071)]; });
    expectRefused((s) => { s.process!.env = Array.from({ length: 60 }, (_, i) => `V${i}=${'x'.repeat(110_000)}`); }, 'process.env', /take \d+ bytes with their pointers; execve takes at most 6291456/);
    // A quarter of a 1 MiB stack: 256 KiB.
    expectRefused((s) => {
      s.process!.rlimits = [{ type: 'RLIMIT_STACK', soft: 1048576, hard: 1048576 }];
      s.process!.env = ['A=' + 'x'.repeat(100_000), 'B=' + 'x'.repeat(100_000), 'C=' + 'x'.repeat(100_000)];
    }, 'process.env', /execve takes at most 262144/);
  });

});
