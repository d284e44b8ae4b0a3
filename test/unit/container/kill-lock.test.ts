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
    // Another process holds the lock until its stdin is closed; it says when it has it. (It used to hold
    // it 600 ms from its start, and the test gave it 100 ms to take it and wanted kill to wait over
    // 300 ms: both bets on how soon each process runs, which parallel unit files on 2 cores can lose.)
    const holder = spawn('flock', [store.dir('c1'), 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'ignore'] });
    children.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    let signalled = false;
    const exited = exitOf(init).then((sig) => { signalled = true; return sig; });
    const kill = killContainer(root, 'c1', 'TERM');
    // While the lock is held the init gets nothing; a kill that did not wait would have signalled it by now.
    await new Promise((r) => setTimeout(r, 300));
    expect(signalled).toBe(false);
    holder.stdin!.end();
    await kill;
    expect(await exited).toBe('SIGTERM');
  });
});
