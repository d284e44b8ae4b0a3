// sweep() and a session's sweep remove the spare state directories (src/state/spare-dirs.ts) that a
// killed library process left, and no other process's: a live process's spares are its own to use.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sweep, sweepSession } from '../../../src/api/sweep.js';
import { readProcStat } from '../../../src/state/status.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** A state root holding a spare of a process that is gone and one of a live process (vitest's parent). */
function rootWithSpares(): { root: string; dead: string; live: string } {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-sweep-spares-'));
  dirs.push(root);
  const startTime = readProcStat(process.ppid)!.startTime;
  const dead = '.spare-999999999-1-00000000';
  const live = `.spare-${process.ppid}-${startTime}-00000000`;
  for (const name of [dead, live]) {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'state.json'), '');
  }
  return { root, dead, live };
}

describe('sweeping spare state directories', () => {
  it('sweep() of a shared root removes a dead process\'s spares and keeps a live one\'s', async () => {
    const { root, live } = rootWithSpares();
    expect(await sweep({ root })).toEqual([]);
    expect(readdirSync(root)).toEqual([live]);
  });

  it('a session\'s sweep of its own root removes every spare in it, then the root', async () => {
    const { root } = rootWithSpares();
    writeFileSync(join(root, 'session.json'), JSON.stringify({ session: '999999999-1-0123abcd' }));
    await sweepSession(root, '999999999-1-0123abcd');
    expect(readdirSync(join(root, '..')).includes(root.slice(root.lastIndexOf('/') + 1))).toBe(false);
  });
});
