import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { session } from '../../../src/api/session.js';
import { configureSpawn } from '../../../src/native/spawn-settings.js';

let restore: (() => void) | undefined;
afterEach(() => restore?.());

describe('session', () => {
  it('a reaper that cannot start is an error naming the program, and leaves no state root behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-sessions-'));
    try {
      restore = configureSpawn({ initProgram: '/nonexistent/tsrun-init' });
      await expect(session({ sessionsDir: dir })).rejects.toThrow(/^session: starting the reaper \/nonexistent\/tsrun-init: .*ENOENT/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without a reaper, close() of an empty session removes its own root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrun-sessions-'));
    try {
      const s = await session({ sessionsDir: dir, reaper: false });
      expect(s.reaperPid).toBeUndefined();
      expect(readdirSync(dir)).toEqual([s.id]);
      await s.close();
      await s.close(); // idempotent
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
