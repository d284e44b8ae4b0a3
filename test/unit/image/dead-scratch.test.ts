// removeDeadScratch: under the store lock, every scratch dir is a dead importer's, whatever pid its
// name carries (a pid is reused; this very process's pid is no exception).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDeadScratch } from '../../../src/image/store-lock.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
function store(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-scratch-unit-'));
  dirs.push(d);
  return d;
}

describe('removeDeadScratch', () => {
  it('removes every entry of <store>/tmp, deep ones and those named after live pids included; keeps the rest of the store', async () => {
    const s = store();
    for (const n of ['1-abc', `${process.pid}-def`, '999999-x', 'odd-name']) mkdirSync(join(s, 'tmp', n, 'root', 'usr', 'lib'), { recursive: true });
    writeFileSync(join(s, 'tmp', '1-abc', 'root', 'usr', 'lib', 'half'), 'x');
    writeFileSync(join(s, 'tmp', 'stray-file'), 'x');
    mkdirSync(join(s, 'layers'));
    await removeDeadScratch(s);
    expect(readdirSync(join(s, 'tmp'))).toEqual([]);
    expect(readdirSync(s).sort()).toEqual(['layers', 'tmp']);
  });

  it('a store without tmp/ (or no store at all) is fine', async () => {
    const s = store();
    await removeDeadScratch(s);
    await removeDeadScratch(join(s, 'missing'));
    expect(readdirSync(s)).toEqual([]);
  });
});
