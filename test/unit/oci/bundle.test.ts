import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, TsrunError } from '../../../src/errors.js';
import { JsonSyntaxScanner, lineAndColumn, loadBundle, loadBundleAgain } from '../../../src/oci/bundle.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsrun-bundle-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function writeBundle(config: unknown = defaultSpec(), rootfs = 'rootfs'): void {
  mkdirSync(join(dir, rootfs), { recursive: true });
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
}

function loadError(bundleDir = dir): TsrunError {
  try {
    loadBundle(bundleDir);
  } catch (err) {
    expect(err).toBeInstanceOf(TsrunError);
    return err as TsrunError;
  }
  throw new Error('expected loadBundle to fail');
}

describe('loadBundle', () => {
  it('loads a valid bundle with absolute paths', () => {
    writeBundle();
    const bundle = loadBundle(relative(process.cwd(), dir));
    expect(bundle.dir).toBe(dir);
    expect(bundle.configPath).toBe(join(dir, 'config.json'));
    expect(bundle.rootfs).toBe(join(dir, 'rootfs'));
    expect(bundle.spec.process?.args).toEqual(['sh']);
  });

  it('keeps an absolute root.path as is', () => {
    const rootfs = join(dir, 'elsewhere');
    writeBundle({ ...defaultSpec(), root: { path: rootfs } }, 'elsewhere');
    expect(loadBundle(dir).rootfs).toBe(rootfs);
  });

  it('resolves a relative root.path that leaves the bundle', () => {
    writeBundle({ ...defaultSpec(), root: { path: '../x/rootfs' } }, 'unused');
    mkdirSync(join(dir, '..', 'x', 'rootfs'), { recursive: true });
    try {
      expect(loadBundle(dir).rootfs).toBe(join(dir, '..', 'x', 'rootfs'));
    } finally {
      rmSync(join(dir, '..', 'x'), { recursive: true });
    }
  });

  it('names a missing bundle directory', () => {
    const err = loadError(join(dir, 'nope'));
    expect(err.message).toBe(`bundle directory ${join(dir, 'nope')} does not exist`);
  });

  it('names a missing config.json', () => {
    const err = loadError();
    expect(err.message).toContain(`${join(dir, 'config.json')} does not exist`);
    expect(err.details.file).toBe(join(dir, 'config.json'));
    expect(err.details.errno).toBe('ENOENT');
  });

  it('names a config.json that is not a regular file', () => {
    mkdirSync(join(dir, 'config.json'));
    const err = loadError();
    expect(err.message).toBe(`${join(dir, 'config.json')}: is a directory, not a regular file`);
    expect(err.details.file).toBe(join(dir, 'config.json'));
  });

  it.each([
    ['{\n  "ociVersion": "1.0.2",\n  "root": {"path": "rootfs",}\n}', 'line 3, column 29', /Expected double-quoted property name/],
    ['{\n  "a": tru\n}', 'line 2, column 11', /Unexpected token/],
    ['{"a":}', 'line 1, column 6', /Unexpected token '}'$/],
    ['', 'line 1, column 1', /Unexpected end of JSON input/],
    ['{"a": [1, 2}', 'line 1, column 12', /Expected ',' or ']'/],
  ])('reports invalid JSON with a position: %j', (text, position, reason) => {
    writeBundle(text);
    const err = loadError();
    expect(err.message.startsWith(`${join(dir, 'config.json')}: invalid JSON at ${position}: `)).toBe(true);
    expect(err.message).toMatch(reason);
    expect(err.message).not.toMatch(/position \d/);
    expect(err.details.file).toBe(join(dir, 'config.json'));
  });

  it('reports an invalid config as a ConfigError naming field and file', () => {
    writeBundle({ ...defaultSpec(), ociVersion: '3.0.0' });
    const err = loadError();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.details).toEqual({ field: 'ociVersion', file: join(dir, 'config.json') });
  });

  it('refuses a missing rootfs', () => {
    writeBundle(defaultSpec(), 'other');
    const err = loadError();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.details.field).toBe('root.path');
    expect(err.message).toBe(`root.path: root filesystem ${join(dir, 'rootfs')} does not exist`);
  });

  it('refuses a rootfs that is a file', () => {
    writeBundle(defaultSpec(), 'other');
    writeFileSync(join(dir, 'rootfs'), '');
    expect(loadError().message).toMatch(/rootfs is not a directory$/);
  });
});

// Built by `make samples`; unit tests do not build it, so this only runs once it exists.
const SAMPLE = resolve(import.meta.dirname, '../../../rootfs-samples/build/busybox');
describe.skipIf(!existsSync(join(SAMPLE, 'config.json')))('the busybox sample bundle', () => {
  it('loads, runs sh without a terminal, and has sh in its rootfs', () => {
    const bundle = loadBundle(SAMPLE);
    expect(bundle.spec.process?.args).toEqual(['sh']);
    expect(bundle.spec.process?.terminal).toBe(false);
    expect(existsSync(join(bundle.rootfs, 'bin/sh'))).toBe(true);
  });
});

describe('JsonSyntaxScanner', () => {
  it.each(['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9\\"y"], "b": {}} ', '"s"', '0', '-0.1E+2'])(
    'finds no error in valid JSON %j',
    (text) => {
      expect(new JsonSyntaxScanner(text).firstErrorOffset()).toBeUndefined();
    },
  );

  it.each([
    ['{"a":01}', 6],
    ['{"a" 1}', 5],
    ['[1 2]', 3],
    ['{} x', 3],
    ['"a\\x"', 3],
    ['"a\nb"', 2],
    ['{"a":-}', 6],
    ['nul', 3],
    ['"open', 5],
    ["{'a': 1}", 1],
  ])('locates the error in %j at offset %i', (text, offset) => {
    expect(new JsonSyntaxScanner(text).firstErrorOffset()).toBe(offset);
  });

  it('turns offsets into 1-based lines and columns', () => {
    expect(lineAndColumn('ab\ncd', 0)).toBe('line 1, column 1');
    expect(lineAndColumn('ab\ncd', 4)).toBe('line 2, column 2');
  });
});

describe('loadBundleAgain (the library: the same bundle, many times)', () => {
  it('validates a config once while its text stays the same, and gives a spec no one can change', () => {
    writeBundle();
    const a = loadBundleAgain(dir);
    const b = loadBundleAgain(dir);
    expect(b.spec).toBe(a.spec);
    expect(b.spec).toEqual(loadBundle(dir).spec);
    expect(() => { a.spec.process!.args!.push('x'); }).toThrow(TypeError);
    expect(() => { (a.spec as { hostname?: string }).hostname = 'x'; }).toThrow(TypeError);
  });

  it('reads the config every time: a change is validated (and refused) as loadBundle would', () => {
    writeBundle();
    const first = loadBundleAgain(dir);
    writeBundle({ ...defaultSpec(), hostname: 'changed' });
    expect(loadBundleAgain(dir).spec.hostname).toBe('changed');
    writeBundle({ ...defaultSpec(), process: { ...defaultSpec().process, cwd: 'relative' } });
    expect(() => loadBundleAgain(dir)).toThrow(ConfigError);
    writeBundle();
    expect(loadBundleAgain(dir).spec).toEqual(first.spec);
    // The rootfs is checked every time too.
    rmSync(join(dir, 'rootfs'), { recursive: true });
    expect(() => loadBundleAgain(dir)).toThrow(TsrunError);
  });
});
