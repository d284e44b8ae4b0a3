// waitForEvent against a stand-in directory: the logic only reads cgroup.events, so a temp dir works.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForEvent } from '../../../src/cgroups/events.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function fakeCgroup(events: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-test-events-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'cgroup.events'), events);
  return dir;
}

describe('waitForEvent', () => {
  it('returns at once when the value is already there', async () => {
    await waitForEvent(fakeCgroup('populated 1\nfrozen 1\n'), 'frozen', 1, 10);
  });
  it('wakes up when cgroup.events changes', async () => {
    const dir = fakeCgroup('populated 1\nfrozen 0\n');
    setTimeout(() => writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n'), 30);
    // Its own timeout far beyond the test's (5 s): only a wake-up on the change can end it in time. (A
    // bound on the time taken, 2 s, was a bet on the load of the machine.)
    await waitForEvent(dir, 'frozen', 1, 600_000);
  });
  it('gives up after the timeout, naming the file and the awaited state', async () => {
    const dir = fakeCgroup('populated 1\nfrozen 0\n');
    await expect(waitForEvent(dir, 'frozen', 1, 50)).rejects.toThrow(`cgroup: ${join(dir, 'cgroup.events')} did not reach "frozen 1" within 50 ms`);
  });
  it('treats a vanished cgroup as unpopulated, and as an error for anything else', async () => {
    const gone = join(tmpdir(), `tsrun-test-gone-${process.pid}`);
    await waitForEvent(gone, 'populated', 0, 10);
    await expect(waitForEvent(gone, 'frozen', 1, 10)).rejects.toThrow(/no longer exists/);
  });
});
