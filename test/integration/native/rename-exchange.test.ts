// tsrun_rename_exchange (renameat2 RENAME_EXCHANGE) in libtsrun-shim.so, through writeFileAtomic as
// state files are written, on the file systems state lives on (ext4 here for /run and /tmp; tmpfs /dev/shm, as /run is elsewhere).
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renameExchange } from '../../../src/native/shim.js';
import { writeFileAtomic } from '../../../src/state/atomic-file.js';
import { cannotRunContainers } from '../../helpers/bundle.js';

const skip = cannotRunContainers();
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe.skipIf(skip !== undefined)('rename exchange (native shim)', () => {
  it.each(['/run', '/dev/shm'])('swaps two names in %s; a missing name is ENOENT', (base) => {
    const d = mkdtempSync(join(base, 'tsrun-exchange-'));
    dirs.push(d);
    writeFileSync(join(d, 'a'), 'A');
    mkdirSync(join(d, 'b'));
    expect(renameExchange(join(d, 'a'), join(d, 'b'))).toBe('swapped');
    expect(readFileSync(join(d, 'b'), 'utf8')).toBe('A');
    expect(lstatSync(join(d, 'a')).isDirectory()).toBe(true);
    expect(renameExchange(join(d, 'b'), join(d, 'none'))).toBe('ENOENT');
  });

  it.each(['/run', '/dev/shm'])('writeFileAtomic replaces a state file in %s and leaves only it', (base) => {
    const d = mkdtempSync(join(base, 'tsrun-exchange-'));
    dirs.push(d);
    const path = join(d, 'state.json');
    writeFileAtomic(path, '{"v":1}', 0o600);
    writeFileAtomic(path, '{"v":2}', 0o600);
    expect(readFileSync(path, 'utf8')).toBe('{"v":2}');
    expect(readdirSync(d)).toEqual(['state.json']);
    mkdirSync(join(d, 'dir'));
    expect(() => writeFileAtomic(join(d, 'dir'), 'x', 0o600)).toThrow(/EISDIR/);
    expect(existsSync(join(d, 'dir')) && lstatSync(join(d, 'dir')).isDirectory()).toBe(true);
    expect(readdirSync(d).sort()).toEqual(['dir', 'state.json']);
  });
});
