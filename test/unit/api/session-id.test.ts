import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSessionId, newSessionId, sessionAlive } from '../../../src/api/session-id.js';
import { markOwnedRoot, rootOwner } from '../../../src/api/sweep.js';
import { readProcStat } from '../../../src/state/status.js';

describe('session ids', () => {
  it('name this process (pid and start time) and are alive while it runs', () => {
    const id = newSessionId();
    expect(isSessionId(id)).toBe(true);
    expect(id.startsWith(`${process.pid}-${readProcStat(process.pid)!.startTime}-`)).toBe(true);
    expect(sessionAlive(id)).toBe(true);
    expect(newSessionId()).not.toBe(id);
  });

  it('a reused pid (another start time), a gone pid or anything else is not alive', () => {
    const [pid, start, rand] = newSessionId().split('-');
    expect(sessionAlive(`${pid}-${Number(start) + 1}-${rand}`)).toBe(false);
    expect(sessionAlive(`4194303-1-${rand}`)).toBe(false);
    for (const bad of ['', 'abc', '1-2', '0-1-00000000', `${pid}-${start}-XYZ`, `../${pid}-${start}-${rand}`]) {
      expect(isSessionId(bad), bad).toBe(false);
      expect(sessionAlive(bad)).toBe(false);
    }
  });

  it('a session\'s own root is marked; a directory without the marker, or with a bad one, belongs to no session', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-owner-'));
    try {
      expect(rootOwner(dir)).toBeUndefined();
      const id = newSessionId();
      markOwnedRoot(dir, id);
      expect(rootOwner(dir)).toBe(id);
      writeFileSync(join(dir, 'session.json'), JSON.stringify({ session: '../x' }));
      expect(rootOwner(dir)).toBeUndefined();
      writeFileSync(join(dir, 'session.json'), '{');
      expect(rootOwner(dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
