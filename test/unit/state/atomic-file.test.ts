// writeFileAtomic with the native shim loaded: the new file swaps names with the old one
// (renameat2 RENAME_EXCHANGE, played by the fake shim) and the old one goes; without an old file, or
// where exchanges fail, a rename. Either way: the new content, no temp file, no write through a link.
// (Without the shim: test/unit/state/pid-file.test.ts.)
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/state/atomic-file.js';
import { installFakeShim, playedRenameExchange, type FakeShim } from '../../helpers/fake-shim.js';

let fake: FakeShim | undefined;
const dirs: string[] = [];
afterEach(() => {
  fake?.uninstall();
  fake = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A temp dir, and a fake shim recording each exchange (`answer`: its return code instead of playing it). */
function setUp(answer?: number): { d: string; exchanges: string[][] } {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-atomic-unit-'));
  dirs.push(d);
  const exchanges: string[][] = [];
  fake = installFakeShim(undefined, { renameExchange: (a, b) => { exchanges.push([a, b]); return answer ?? playedRenameExchange(a, b); } });
  return { d, exchanges };
}

describe('writeFileAtomic with the shim loaded', () => {
  it('an old file swaps names with the new one and is removed', () => {
    const { d, exchanges } = setUp();
    const path = join(d, 'state.json');
    writeFileSync(path, 'old');
    writeFileAtomic(path, 'new', 0o600);
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(d)).toEqual(['state.json']);
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]![1]).toBe(path);
  });

  it('no old file: the exchange fails with ENOENT and the new file is renamed into place', () => {
    const { d, exchanges } = setUp();
    const path = join(d, 'state.json');
    writeFileAtomic(path, 'first', 0o600);
    expect(readFileSync(path, 'utf8')).toBe('first');
    expect(readdirSync(d)).toEqual(['state.json']);
    expect(exchanges).toHaveLength(1);
  });

  it('a file system without exchanges (EINVAL): a rename replaces the old file', () => {
    const { d } = setUp(-constants.errno.EINVAL);
    const path = join(d, 'state.json');
    writeFileSync(path, 'old');
    writeFileAtomic(path, 'new', 0o600);
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(d)).toEqual(['state.json']);
  });

  it('a symlink at the target is replaced, its target untouched', () => {
    const { d } = setUp();
    writeFileSync(join(d, 'victim'), 'keep me');
    symlinkSync(join(d, 'victim'), join(d, 'state.json'));
    writeFileAtomic(join(d, 'state.json'), 'new', 0o600);
    expect(readFileSync(join(d, 'victim'), 'utf8')).toBe('keep me');
    expect(lstatSync(join(d, 'state.json')).isFile()).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['state.json', 'victim']);
  });

  it('a directory at the target: EISDIR as a rename says, the directory back at its name with its files, no temp file', () => {
    const { d } = setUp();
    const path = join(d, 'state.json');
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'x');
    expect(() => writeFileAtomic(path, 'new', 0o600)).toThrow(/EISDIR/);
    expect(lstatSync(path).isDirectory()).toBe(true);
    expect(readdirSync(path)).toEqual(['inside']);
    expect(readdirSync(d)).toEqual(['state.json']);
  });
});
