// Interleaved A/B of the library's in-process run() between two builds, in one Node process:
//   node bench/api-ab.mjs A_REPO B_REPO [ROUNDS]      (as root; each *_REPO is a built checkout)
// Each round runs 10 run()s of /bin/true with A, 10 with B, 10 with B, 10 with A (ABBA), so a busy
// moment of the machine hits both alike. Prints the median of each and B - A.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [aDir, bDir, roundsArg] = process.argv.slice(2);
if (!aDir || !bDir) {
  console.error('usage: node bench/api-ab.mjs A_REPO B_REPO [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 10);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync('/tmp/tsrun-api-ab-');
try {
  cpSync(join(repo, 'rootfs-samples/build/busybox/rootfs'), join(tmp, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  const config = JSON.parse(readFileSync(join(repo, 'rootfs-samples/build/busybox/config.json'), 'utf8'));
  config.process.args = ['/bin/true'];
  config.process.terminal = false;
  config.root = { ...config.root, path: join(tmp, 'rootfs') };
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(config));
  const builds = { A: await import(join(resolve(aDir), 'dist/api/index.js')), B: await import(join(resolve(bDir), 'dist/api/index.js')) };
  const root = join(tmp, 'state');
  const times = { A: [], B: [] };
  const ten = async (k) => {
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await builds[k].run({ bundle: tmp }, { root });
      times[k].push(performance.now() - t0);
      if (r.exitCode !== 0) throw new Error(`${k}: run exited ${r.exitCode}`);
    }
  };
  for (let i = 0; i < 2; i++) { await ten('A'); await ten('B'); } // warm-up
  times.A = []; times.B = [];
  for (let r = 0; r < rounds; r++) { await ten('A'); await ten('B'); await ten('B'); await ten('A'); }
  const median = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[s.length >> 1]; };
  console.log(`run() of /bin/true: A ${median(times.A).toFixed(2)} ms, B ${median(times.B).toFixed(2)} ms, B - A ${(median(times.B) - median(times.A)).toFixed(2)} ms (${times.A.length} each)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
