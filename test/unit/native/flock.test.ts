// withFlock (src/native/flock.ts), the one lock idiom of the state store and the image store: a
// second holder waits for the first, the lock goes with fn's end (also when fn throws), a lock file is
// made 0600, and a missing directory is reported as the ErrnoException it is.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireFlock, withFlock } from '../../../src/native/flock.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-flock-unit-'));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

/** `flock -n PATH true` in another process: 0 when it got the lock, 1 when someone holds it. */
function otherProcessCanLock(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['-n', path, 'true'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code === 0));
  });
}

describe('withFlock', () => {
  it('holds an exclusive lock on a directory while fn runs, and drops it after', async () => {
    const dir = tmp();
    const during = await withFlock({ path: dir, kind: 'dir' }, () => otherProcessCanLock(dir));
    expect(during).toBe(false);
    expect(await otherProcessCanLock(dir)).toBe(true);
  });

  it('a second holder in the same process waits for the first', async () => {
    const dir = tmp();
    const order: string[] = [];
    let releaseFirst!: () => void;
    let firstIn!: () => void;
    const firstHolds = new Promise<void>((r) => { firstIn = r; });
    const first = withFlock({ path: dir, kind: 'dir' }, async () => {
      order.push('first in');
      firstIn();
      await new Promise<void>((r) => { releaseFirst = r; });
      order.push('first out');
    });
    await firstHolds; // (a fixed 20 ms wait could let the second take the lock first)
    const second = withFlock({ path: dir, kind: 'dir' }, () => { order.push('second in'); });
    await new Promise((r) => setTimeout(r, 100));
    expect(order).toEqual(['first in']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('drops the lock when fn throws, and passes the error on', async () => {
    const dir = tmp();
    await expect(withFlock({ path: dir, kind: 'dir' }, () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await otherProcessCanLock(dir)).toBe(true);
  });

  it('makes a missing lock file 0600; a missing directory is an ENOENT for the caller to name', async () => {
    const file = join(tmp(), 'layer.lock');
    const lock = await acquireFlock({ path: file, kind: 'file' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await otherProcessCanLock(file)).toBe(false);
    lock.release();
    lock.release(); // idempotent
    expect(await otherProcessCanLock(file)).toBe(true);
    await expect(acquireFlock({ path: join(tmp(), 'nope'), kind: 'dir' })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
