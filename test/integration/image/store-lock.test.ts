// The image store lock across processes: `tsrun image prune` waits for whoever holds the store's
// flock (here util-linux flock(1), as a long import would), and imports and prunes run at the same
// time never leave an image with a missing layer.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cannotRunContainers, REPO, runTsrun } from '../../helpers/bundle.js';

const skip = cannotRunContainers();
let work: string;

beforeAll(() => {
  if (skip) return;
  work = mkdtempSync(`${tmpdir()}/tsrun-store-lock-`);
  execFileSync(`${REPO}/rootfs-samples/image.sh`, [`${work}/samples`], { stdio: 'pipe' });
}, 120_000);

afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

describe.skipIf(skip !== undefined)(`image store lock${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  it('prune waits for another process holding the lock', async () => {
    const store = `${work}/store-held`;
    const layout = `${work}/samples/busybox-layers`;
    expect((await runTsrun(['image', 'import', '-q', '--store', store, layout])).exitCode).toBe(0);
    expect((await runTsrun(['image', 'rm', '--store', store, 'busybox-layers:latest'])).exitCode).toBe(0);
    // flock(1) prints once it holds the lock, then keeps it until its stdin is closed. (It used to keep
    // it 1.5 s and the test wanted prune to take over 1 s from when the test saw "locked": a test
    // process 0.6 s late to see it, on a loaded host, made prune's wait look too short.)
    const holder = spawn('flock', ['-x', store, 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const holderExit = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    let pruned = false;
    const prune = runTsrun(['image', 'prune', '--store', store]).then((r) => { pruned = true; return r; });
    // While the lock is held prune cannot finish; one that did not wait would be done within this second.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(pruned).toBe(false);
    holder.stdin.end();
    await holderExit;
    const r = await prune;
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBe(2); // then it did its work
  });

  it('concurrent imports and prunes leave every imported image whole', async () => {
    const layout = `${work}/samples/busybox-layers`;
    for (let round = 0; round < 3; round++) {
      const store = `${work}/store-race-${round}`;
      const [imp, pr1, pr2] = await Promise.all([
        runTsrun(['image', 'import', '-q', '--store', store, layout]),
        runTsrun(['image', 'prune', '--store', store]),
        runTsrun(['image', 'prune', '--store', store]),
      ]);
      expect([imp.exitCode, pr1.exitCode, pr2.exitCode, pr1.stderr + pr2.stderr]).toEqual([0, 0, 0, '']);
      // inspect fails naming a missing layer if a prune took one.
      const inspect = await runTsrun(['image', 'inspect', '--store', store, 'busybox-layers:latest']);
      expect(inspect.stderr).toBe('');
      expect(JSON.parse(inspect.stdout).lowerDirs).toHaveLength(2);
    }
  });
});
