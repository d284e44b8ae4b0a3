import { describe, expect, it } from 'vitest';
import { entryPath } from '../../../src/image/entry-path.js';

describe('entryPath', () => {
  it('gives clean names as they are (without a trailing slash) and cleans the rest', () => {
    const cases: [string, string][] = [
      ['usr/share/x', 'usr/share/x'], ['etc/', 'etc'], ['a/b/', 'a/b'], ['..a', '..a'], ['.a/b', '.a/b'], ['a/b..', 'a/b..'],
      ['a//b', 'a/b'], ['./a', 'a'], ['a/.', 'a'], ['a/./b/', 'a/b'], ['.', ''], ['./', ''], ['', ''],
    ];
    for (const [name, want] of cases) expect(entryPath(name)).toBe(want);
  });
  it('refuses .., absolute names and NUL bytes', () => {
    for (const name of ['a/..', 'a/../b', '../a', '..', '/', '/etc', 'a\0b']) expect(() => entryPath(name)).toThrow(/refusing layer entry/);
  });
});
