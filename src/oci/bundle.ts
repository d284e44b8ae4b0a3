// Loads an OCI bundle: `<dir>/config.json` (read, parsed, validated) and its root filesystem.
// Synchronous on purpose: it runs once at start-up, before anything else can happen concurrently.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, TsrunError } from '../errors.js';
import { thisProcessNamespaces } from './caller-namespaces.js';
import { MAX_CONFIG_BYTES } from './json-limits.js';
import type { Spec } from './types.js';
import { validateSpec } from './validate.js';
import { deepFrozen } from '../deep-frozen.js';

export interface Bundle {
  /** Absolute bundle directory. */
  dir: string;
  /** Absolute path of the bundle's config.json. */
  configPath: string;
  spec: Spec;
  /** Absolute root filesystem directory: root.path resolved against the bundle directory. */
  rootfs: string;
}

export function loadBundle(dir: string): Bundle {
  return load(dir, (text, configPath) => validated(text, configPath));
}

function validated(text: string, configPath: string): Spec {
  return validateSpec(parseJson(text, configPath), configPath, { callerNamespaces: thisProcessNamespaces });
}

function load(dir: string, specOf: (text: string, configPath: string) => Spec): Bundle {
  const bundleDir = resolve(dir);
  const configPath = join(bundleDir, 'config.json');
  const spec = specOf(readConfig(bundleDir, configPath), configPath);
  const rootfs = resolve(bundleDir, spec.root?.path ?? '');
  checkRootfsIsDirectory(rootfs, configPath);
  return { dir: bundleDir, configPath, spec, rootfs };
}

/** The last config read at each path, as text, and what its validation gave. */
const lastValidated = new Map<string, { text: string; spec: Readonly<Spec> }>();

/**
 * loadBundle for a process that loads the same bundles again and again (the library: a test makes
 * hundreds of containers of one bundle). The config is read every time, and validated only when its
 * text differs from the last one read at that path (validating is most of a load, ~0.13 ms). The spec
 * is shared between the loads that give it, so it is frozen: a change to it throws instead of
 * reaching the next container.
 */
export function loadBundleAgain(dir: string): Bundle {
  return load(dir, (text, configPath) => {
    const last = lastValidated.get(configPath);
    if (last?.text === text) return last.spec as Spec;
    const spec = deepFrozen(validated(text, configPath));
    lastValidated.delete(configPath);
    // A test suite's temporary bundles come and go: the oldest are forgotten.
    if (lastValidated.size >= 64) lastValidated.delete(lastValidated.keys().next().value!);
    lastValidated.set(configPath, { text, spec });
    return spec;
  });
}

function errnoOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function readConfig(bundleDir: string, configPath: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below). Node adds O_CLOEXEC.
    fd = openSync(configPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw unreadable(err, bundleDir, configPath);
  }
  try {
    const st = fstatSync(fd);
    // A FIFO or /dev/zero would make reading wait or never end.
    if (!st.isFile()) throw new TsrunError(`${configPath}: is ${fileKind(st)}, not a regular file`, { file: configPath });
    if (st.size > MAX_CONFIG_BYTES) {
      throw new TsrunError(`${configPath}: is ${(st.size / 2 ** 20).toFixed(1)} MiB; a config may be at most ${MAX_CONFIG_BYTES / 2 ** 20} MiB`, { file: configPath });
    }
    const buf = Buffer.allocUnsafe(st.size);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    return buf.toString('utf8', 0, n);
  } catch (err) {
    if (err instanceof TsrunError) throw err;
    throw unreadable(err, bundleDir, configPath);
  } finally {
    closeSync(fd);
  }
}

function unreadable(err: unknown, bundleDir: string, configPath: string): TsrunError {
  const errno = errnoOf(err);
  const details = { file: configPath, cause: err, ...(errno ? { errno } : {}) };
  if (errno === 'ENOENT' && !isDirectory(bundleDir)) {
    return new TsrunError(`bundle directory ${bundleDir} does not exist`, details);
  }
  if (errno === 'ENOENT') {
    return new TsrunError(`${configPath} does not exist (a bundle needs a config.json; \`tsrun spec\` writes one)`, details);
  }
  return new TsrunError(`cannot read ${configPath}: ${err instanceof Error ? err.message : String(err)}`, details);
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function parseJson(text: string, file: string): unknown {
  // (How deeply the document nests is the validator's business: see checks.ts.)
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    const offset = new JsonSyntaxScanner(text).firstErrorOffset();
    const where = offset === undefined ? '' : ` at ${lineAndColumn(text, offset)}`;
    throw new TsrunError(`${file}: invalid JSON${where}: ${conciseJsonReason(err.message)}`, { file, cause: err });
  }
}

// V8 words its messages differently across versions, sometimes with an offset and sometimes with a
// copy of the input (`, "…"… is not valid JSON`, newlines and all); keep only the reason — the
// position is reported as line and column — and escape what would not print on one line (the token).
export function conciseJsonReason(message: string): string {
  const reason = message.replace(/ (in|after) JSON at position \d+.*$/s, (m, word: string) => (word === 'after' ? ' after the JSON value' : ''))
    .replace(/, ".*$/s, '');
  // eslint-disable-next-line no-control-regex
  return reason.replace(/[\x00-\x1f\x7f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `line 3, column 7` (both 1-based) of a character offset. */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

class SyntaxErrorAt {
  constructor(readonly offset: number) {}
}

/**
 * Finds where JSON text first stops being valid. JSON.parse does not always say (Node 20 reports
 * `Unexpected token '}'` without an offset), and a position is what a user needs to fix a config.
 */
export class JsonSyntaxScanner {
  private i = 0;
  constructor(private readonly text: string) {}

  /** Offset of the first syntax error, or undefined when the text is valid JSON. */
  firstErrorOffset(): number | undefined {
    try {
      this.value();
      this.skipWhitespace();
      return this.i < this.text.length ? this.i : undefined;
    } catch (err) {
      if (err instanceof SyntaxErrorAt) return err.offset;
      throw err;
    }
  }

  private fail(offset = this.i): never {
    throw new SyntaxErrorAt(offset);
  }

  private skipWhitespace(): void {
    while (this.i < this.text.length && ' \t\n\r'.includes(this.text[this.i]!)) this.i++;
  }

  private value(): void {
    this.skipWhitespace();
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't') return this.literal('true');
    if (c === 'f') return this.literal('false');
    if (c === 'n') return this.literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    this.fail();
  }

  /** Consumes `{...}` or `[...]`: elements separated by commas, then the closing bracket. */
  private sequence(close: '}' | ']', element: () => void): void {
    this.i++;
    this.skipWhitespace();
    if (this.text[this.i] === close) { this.i++; return; }
    for (;;) {
      element();
      this.skipWhitespace();
      const c = this.text[this.i];
      this.i++;
      if (c === close) return;
      if (c !== ',') this.fail(this.i - 1);
    }
  }

  private object(): void {
    this.sequence('}', () => {
      this.skipWhitespace();
      if (this.text[this.i] !== '"') this.fail();
      this.string();
      this.skipWhitespace();
      if (this.text[this.i] !== ':') this.fail();
      this.i++;
      this.value();
    });
  }

  private array(): void {
    this.sequence(']', () => this.value());
  }

  private string(): void {
    this.i++;
    while (this.i < this.text.length) {
      const c = this.text[this.i]!;
      if (c === '"') { this.i++; return; }
      if (c < ' ') this.fail();
      if (c === '\\') this.escape();
      else this.i++;
    }
    this.fail();
  }

  private escape(): void {
    const c = this.text[this.i + 1];
    if (c !== undefined && '"\\/bfnrt'.includes(c)) { this.i += 2; return; }
    if (c === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.i + 2, this.i + 6))) { this.i += 6; return; }
    this.fail(this.i + 1);
  }

  private number(): void {
    const pattern = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    pattern.lastIndex = this.i;
    if (!pattern.test(this.text)) this.fail(this.text[this.i] === '-' ? this.i + 1 : this.i);
    this.i = pattern.lastIndex;
  }

  private literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      if (this.text[this.i + k] !== word[k]) this.fail(this.i + k);
    }
    this.i += word.length;
  }
}

function checkRootfsIsDirectory(rootfs: string, configPath: string): void {
  const stat = statSync(rootfs, { throwIfNoEntry: false });
  if (stat === undefined) throw new ConfigError('root.path', `root filesystem ${rootfs} does not exist`, configPath);
  if (!stat.isDirectory()) throw new ConfigError('root.path', `root filesystem ${rootfs} is not a directory`, configPath);
}
