// The one writer of pid files (create, run -d, exec): temp file + rename, never through a symlink.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writePidFile } from '../../../src/state/pid-file.js';
import { tempNameFor, writeFileAtomic } from '../../../src/state/atomic-file.js';
import { TsrunError } from '../../../src/errors.js';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-pidfile-unit-'));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('writePidFile', () => {
  it('writes the pid alone (no newline), mode 0644 less the umask, and leaves no temp file', () => {
    const d = dir();
    writePidFile(join(d, 'pid'), 4242);
    expect(readFileSync(join(d, 'pid'), 'utf8')).toBe('4242');
    expect(lstatSync(join(d, 'pid')).mode & 0o777).toBe(0o644 & ~process.umask());
    expect(readdirSync(d)).toEqual(['pid']);
  });

  it('replaces an existing pid file', () => {
    const d = dir();
    writeFileSync(join(d, 'pid'), '1');
    writePidFile(join(d, 'pid'), 77);
    expect(readFileSync(join(d, 'pid'), 'utf8')).toBe('77');
  });

  it('replaces a symlink at the target instead of writing through it', () => {
    const d = dir();
    writeFileSync(join(d, 'victim'), 'keep me');
    symlinkSync(join(d, 'victim'), join(d, 'pid'));
    writePidFile(join(d, 'pid'), 99);
    expect(readFileSync(join(d, 'victim'), 'utf8')).toBe('keep me');
    expect(lstatSync(join(d, 'pid')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'pid'), 'utf8')).toBe('99');
  });

  it('does not create the file a dangling symlink at the target names', () => {
    const d = dir();
    symlinkSync(join(d, 'nowhere'), join(d, 'pid'));
    writePidFile(join(d, 'pid'), 5);
    expect(readdirSync(d).sort()).toEqual(['pid']);
  });

  it('a relative path is taken from the working directory', () => {
    const d = dir();
    const cwd = process.cwd();
    process.chdir(d);
    try {
      writePidFile('rel.pid', 12);
    } finally {
      process.chdir(cwd);
    }
    expect(readFileSync(join(d, 'rel.pid'), 'utf8')).toBe('12');
  });

  it('a missing directory is a TsrunError naming the file and the errno, with nothing left', () => {
    const d = dir();
    const file = join(d, 'missing', 'pid');
    let err: unknown;
    try { writePidFile(file, 1); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TsrunError);
    expect((err as TsrunError).message).toBe(`cannot write the pid file ${file}: ENOENT`);
    expect((err as TsrunError).details).toMatchObject({ file, errno: 'ENOENT' });
    expect(readdirSync(d)).toEqual([]);
  });

  it('a directory at the target fails (rename cannot replace it) and leaves no temp file', () => {
    const d = dir();
    const file = join(d, 'pid');
    mkdirSync(file);
    expect(() => writePidFile(file, 1)).toThrow(/cannot write the pid file .*: EISDIR/);
    expect(readdirSync(d)).toEqual(['pid']);
  });
});

describe('writeFileAtomic', () => {
  it('creates the file with the mode given (0600 for state) whatever an old file had', () => {
    const d = dir();
    writeFileSync(join(d, 'state.json'), 'old', { mode: 0o644 });
    writeFileAtomic(join(d, 'state.json'), '{"new":1}', 0o600);
    expect(lstatSync(join(d, 'state.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(d, 'state.json'), 'utf8')).toBe('{"new":1}');
    expect(readdirSync(d)).toEqual(['state.json']);
  });

  it('temp names sit next to the target, hidden, and are not predictable', () => {
    const a = tempNameFor('/some/dir/pid');
    const b = tempNameFor('/some/dir/pid');
    expect(a).toMatch(/^\/some\/dir\/\.pid\.[0-9a-f]{16}\.tmp$/);
    expect(a).not.toBe(b);
  });
});
