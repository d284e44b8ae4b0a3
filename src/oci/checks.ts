// Small checking combinators for validate.ts. A Check looks at one JSON value found at `path` (a
// JSON path such as `linux.namespaces[2].type`) and throws Invalid naming it. Also the value formats
// the kernel imposes on every config (id ranges, path lengths, list sizes), with the reason for each.

/** Thrown inside the validator; turned into a ConfigError (with the file name) at its boundary. */
export class Invalid extends Error {
  constructor(readonly field: string, readonly problem: string) {
    super(`${field}: ${problem}`);
  }
}

export type Check = (value: unknown, path: string) => void;
export type JsonObject = Record<string, unknown>;

export function fail(path: string, problem: string): never {
  throw new Invalid(path, problem);
}

export function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** `a.b`, or `a["net.ipv4.ip_forward"]` when the key is not a plain identifier. */
export function fieldPath(parent: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function expectObject(v: unknown, path: string): asserts v is JsonObject {
  if (jsonKind(v) !== 'object') fail(path, `must be an object, got ${jsonKind(v)}`);
}

// No string of a config may hold a NUL: a syscall would see it end there (and the plan's encoder refuses it).
export function expectString(v: unknown, path: string): asserts v is string {
  if (typeof v !== 'string') fail(path, `must be a string, got ${jsonKind(v)}`);
  if (v.includes('\0')) fail(path, 'must not contain a NUL character');
}

export const str: Check = expectString;

export const bool: Check = (v, path) => {
  if (typeof v !== 'boolean') fail(path, `must be a boolean, got ${jsonKind(v)}`);
};

// ---------------------------------------------------------------------------------------------
// Depth. JSON.parse copes with any nesting, but tsrun later serialises the config (state.json holds
// it): 100,000 levels ended in a RangeError stack trace after the container had been cloned. The
// runtime-spec's own structures nest 7 levels at most (linux.seccomp.syscalls[i].args[j]), and the
// shapes below bound them; what they do not look into — unknown fields, free-form objects — is
// walked here, without recursion, down to the limit.

/** The deepest nesting of objects and arrays a document may have; the document itself is level 1. */
export const MAX_DEPTH = 64;

/** How deep the value at `path` lies: the document is level 1, `a` 2, `a.b[0]` 4 (quoted keys skipped). */
function depthOf(path: string): number {
  if (path === '') return 1;
  let depth = path.startsWith('[') ? 1 : 2;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '"') { // a quoted key (`a["x.y"]`): skip to its closing quote, past JSON's \" and \\ escapes
      for (i++; i < path.length && path[i] !== '"'; i += path[i] === '\\' ? 2 : 1);
      continue;
    }
    if (c === '.' || c === '[') depth++;
  }
  return depth;
}

/** Whether `value` (an object or array) holds more than `levels` levels of them, itself included. */
function nestsDeeperThan(value: object, levels: number): boolean {
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, level] = stack.pop()!;
    if (level > levels) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === 'object') stack.push([child as object, level + 1]);
    }
  }
  return false;
}

function checkDepth(v: object, path: string): void {
  if (nestsDeeperThan(v, MAX_DEPTH - depthOf(path) + 1)) fail(path, `nested more than ${MAX_DEPTH} levels deep (the document is level 1)`);
}

/** An object of any content (within the depth limit). */
export const anyObject: Check = (v, path) => {
  expectObject(v, path);
  checkDepth(v, path);
};

export function integer(min: number, max: number): Check {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) fail(path, `must be an integer, got ${JSON.stringify(v)}`);
    if (v < min || v > max) fail(path, `must be between ${bound(min)} and ${bound(max)}, got ${v}`);
  };
}

/**
 * A bound as people write it: 18446744073709551615 and 9223372036854775807 read as 2^64 and 2^63 (the
 * closest doubles), which is what the checks compare with; other large ones in full, not as 1e+21.
 */
function bound(n: number): string {
  if (n === 2 ** 64) return '18446744073709551615';
  if (n === 2 ** 63) return '9223372036854775807';
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

export const MAX_U32 = 2 ** 32 - 1;
export const uint32 = integer(0, MAX_U32);
export const uint16 = integer(0, 0xffff);
// A user or group id: (uid_t)-1 is not one — setresuid(-1) and chown(-1) mean "leave it unchanged", so
// uid 4294967295 would have kept the container's process root.
export const MAX_UNIX_ID = MAX_U32 - 1;
export const unixId = integer(0, MAX_UNIX_ID);
// 64-bit values do not survive JSON.parse exactly: RLIM_INFINITY, 18446744073709551615, reads as 2^64.
// Anything beyond is out of range (and 1e21 and up would reach cgroup files as "1e+21").
export const uint64 = integer(0, 2 ** 64);
export const int64 = integer(-(2 ** 63), 2 ** 63);
// dev_t as the kernel keeps it: 12 bits of major, 20 of minor (mknod(2) refuses more with EINVAL).
export const deviceMajor = integer(0, 0xfff);
export const deviceMinor = integer(0, 0xfffff);

export const nonEmptyString: Check = (v, path) => {
  expectString(v, path);
  if (v === '') fail(path, 'must not be empty');
};

// The kernel takes paths of up to PATH_MAX (4096) bytes with their NUL, and names of NAME_MAX (255).
export const PATH_MAX_BYTES = 4095;
export const NAME_MAX_BYTES = 255;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** A path a syscall will get: within the kernel's limits, and printable (errors quote it on one line). */
export const pathString: Check = (v, path) => {
  expectString(v, path);
  const bytes = Buffer.byteLength(v);
  if (bytes > PATH_MAX_BYTES) fail(path, `must be at most ${PATH_MAX_BYTES} bytes (PATH_MAX), got ${bytes}`);
  if (bytes > NAME_MAX_BYTES && v.split('/').some((name) => Buffer.byteLength(name) > NAME_MAX_BYTES)) {
    fail(path, `has a component longer than ${NAME_MAX_BYTES} bytes (NAME_MAX)`);
  }
  if (CONTROL.test(v)) fail(path, `must not contain control characters, got ${JSON.stringify(v)}`);
};

export const absolutePath: Check = (v, path) => {
  pathString(v, path);
  if (!(v as string).startsWith('/')) fail(path, `must be an absolute path, got ${JSON.stringify(v)}`);
};

export function oneOf(allowed: readonly string[]): Check {
  return (v, path) => {
    expectString(v, path);
    if (!allowed.includes(v)) fail(path, `must be one of ${allowed.join(', ')}; got ${JSON.stringify(v)}`);
  };
}

export function matching(pattern: RegExp, expected: string): Check {
  return (v, path) => {
    expectString(v, path);
    if (!pattern.test(v)) fail(path, `must be ${expected}, got ${JSON.stringify(v)}`);
  };
}

// More entries than any real container uses, and few enough that every list is planned, written to
// state.json and run through quickly (a plan has at most 100,000 steps); a longer one is a mistake or
// an attack, refused before anything is made.
export const MAX_ITEMS = 4096;

export interface ListLimits {
  nonEmpty?: boolean;
  /** Default MAX_ITEMS. */
  maxItems?: number;
  /** Why the limit is what it is, when it is not tsrun's general one. */
  limitReason?: string;
}

export function arrayOf(item: Check, options: ListLimits = {}): Check {
  const max = options.maxItems ?? MAX_ITEMS;
  return (v, path) => {
    if (!Array.isArray(v)) fail(path, `must be an array, got ${jsonKind(v)}`);
    if (options.nonEmpty && v.length === 0) fail(path, 'must not be empty');
    if (v.length > max) fail(path, `has ${v.length} entries; at most ${max}${options.limitReason ? ` (${options.limitReason})` : ''}`);
    v.forEach((element, i) => item(element, `${path}[${i}]`));
  };
}

export function recordOf(item: Check, options: { maxKeys?: number; key?: Check } = {}): Check {
  return (v, path) => {
    expectObject(v, path);
    const entries = Object.entries(v);
    if (options.maxKeys !== undefined && entries.length > options.maxKeys) fail(path, `has ${entries.length} keys; at most ${options.maxKeys}`);
    for (const [key, value] of entries) {
      const field = fieldPath(path, key);
      (options.key ?? expectString)(key, field);
      item(value, field);
    }
  };
}

export function nullable(check: Check): Check {
  return (v, path) => {
    if (v !== null) check(v, path);
  };
}

/** Runs checks in order on the same value: typically a shape, then a rule across its fields. */
export function allOf(...checks: Check[]): Check {
  return (v, path) => {
    for (const check of checks) check(v, path);
  };
}

/**
 * An object whose listed fields are checked when present; `required` ones must be present. Other
 * fields are ignored (the runtime-spec says so), except for how deeply they nest.
 */
export function shape(fields: Record<string, Check>, required: readonly string[] = []): Check {
  return (v, path) => {
    expectObject(v, path);
    for (const key of required) {
      if (v[key] === undefined) fail(fieldPath(path, key), 'is required');
    }
    for (const [key, check] of Object.entries(fields)) {
      if (v[key] !== undefined) check(v[key], fieldPath(path, key));
    }
    for (const key in v) {
      const child = v[key];
      if (child !== null && typeof child === 'object' && !Object.hasOwn(fields, key)) checkDepth(child, fieldPath(path, key));
    }
  };
}
