// `kill` takes the container's lock (it once did not): a kill waits while another tsrun holds it
// (a delete --force waiting for the init, a start running its hooks), then signals the init through a
// pidfd. The "container" is a record naming a live `sleep` of this test; nothing needs root.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killContainer } from '../../../src/container/kill.js';
import { StateStore } from '../../../src/state/store.js';
import { readProcStat } from '../../../src/state/status.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
afterAll(() => { for (const c of children) c.kill('SIGKILL'); });

function exitOf(child: ChildProcess): Promise<string | null> {
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('kill', () => {
  it('waits for the container\'s lock, then signals the init', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsrun-kill-lock-'));
    dirs.push(root);
    const init = spawn('sleep', ['1000'], { stdio: 'ignore' });
    children.push(init);
    const store = new StateStore(root);
    store.createDir('c1', {
      ociVersion: '1.2.0', id: 'c1', pid: init.pid!, pidStartTime: readProcStat(init.pid!)!.startTime, bundle: '/b', rootfs: '/b/rootfs',
      created: '2024-01-01T00:00:00.000Z', started: true, config: { ociVersion: '1.2.0' },
    });
    // Another process holds the lock for 600 ms.
    const holder = spawn('flock', [store.dir('c1'), 'sleep', '0.6'], { stdio: 'ignore' });
    children.push(holder);
    await new Promise((r) => setTimeout(r, 100));
    const exited = exitOf(init);
    const t0 = Date.now();
    await killContainer(root, 'c1', 'TERM');
    const waited = Date.now() - t0;
    expect(await exited).toBe('SIGTERM');
    expect(waited).toBeGreaterThan(300);
  });
});
