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
    // flock(1) prints once it holds the lock, then keeps it for 1.5 s.
    const holder = spawn('flock', ['-x', store, 'sh', '-c', 'echo locked; sleep 1.5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const holderExit = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const t0 = Date.now();
    const prune = await runTsrun(['image', 'prune', '--store', store]);
    const waited = Date.now() - t0;
    await holderExit;
    expect(prune.exitCode).toBe(0);
    expect(prune.stdout.trim().split('\n').length).toBe(2); // then it did its work
    expect(waited).toBeGreaterThan(1_000);
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
