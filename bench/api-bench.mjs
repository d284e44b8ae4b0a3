// `make bench-api`: the library (dist/api/index.js, in this Node process) against crun and against
// the CLI, in one run so the ratios compare like with like (issue 15's benchmarks):
//   1. run() of /bin/true, median of about N (default 60), vs `crun run` of the same bundle (hyperfine -N),
//      in alternating blocks of 10
//   2. 50 containers at once from this process (start() of a sleeping service, and run() of /bin/true,
//      each with Promise.all) vs 50 × `crun run -d` at once; the test process's memory
//   3. start + Wait.forLog + stop of a small service vs the CLI path (run -d, poll its log, kill, delete -f)
// crun runs in a private mount namespace with /sys/fs/cgroup/unified unmounted (it refuses hybrid
// cgroups otherwise; ../shared/baselines.md). Results: bench/results/api.json and a table on stdout.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const { run, start, Wait } = await import(join(repo, 'dist/api/index.js'));
const N = Number(process.env.RUNS ?? 60);
const PARALLEL = Number(process.env.PARALLEL ?? 50);
const tag = process.pid;
const tmp = mkdtempSync('/tmp/tsrun-api-bench-');
const root = join(tmp, 'state');
const crunRoot = join(tmp, 'crun-state');
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const ms = (x) => `${x.toFixed(1)} ms`;

// One rootfs copy; a bundle per use (crun's with an absolute cgroupsPath: it would nest under ours otherwise).
cpSync(join(repo, 'rootfs-samples/build/busybox/rootfs'), join(tmp, 'rootfs'), { recursive: true, verbatimSymlinks: true });
const base = JSON.parse(readFileSync(join(repo, 'rootfs-samples/build/busybox/config.json'), 'utf8'));
function bundle(name, args, cgroupsPath) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const c = structuredClone(base);
  c.process.args = args;
  c.process.terminal = false;
  c.root = { ...c.root, path: join(tmp, 'rootfs') };
  if (cgroupsPath) c.linux = { ...c.linux, cgroupsPath };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}
const SERVICE = ['sh', '-c', "trap 'exit 0' TERM; echo ready; sleep 600 & wait"];
const trueBundle = bundle('true', ['/bin/true']);
const crunTrue = bundle('crun-true', ['/bin/true'], `/tsrun-bench-crun-${tag}`);
const crunSleep = bundle('crun-sleep', ['sleep', '600'], undefined);
const serviceBundle = bundle('service', SERVICE);
const inCrunNs = (cmd) => ['unshare', '-m', '--propagation', 'private', '--', 'sh', '-c', 'umount /sys/fs/cgroup/unified && exec "$@"', '_', ...cmd];

// The share of CPU time the hypervisor took (/proc/stat's steal): on these shared VMs it ranges from
// ~1% to ~40% within an hour, and every figure here moves with it; it is printed with them.
const cpuTimes = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
const cpu0 = cpuTimes();
const results = { date: new Date().toISOString(), git: execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(), runs: N, parallel: PARALLEL };
try {
  // 1. run() of /bin/true in-process vs crun run, interleaved (ABBA blocks of 10) so that a slower
  // moment of this (virtual, shared) machine hits both alike: measured one after the other, the same
  // build gave 0.55x and 0.94x within minutes.
  for (let i = 0; i < 5; i++) await run({ bundle: trueBundle }, { root });
  const times = [];
  const crunTimes = [];
  const hf = join(tmp, 'crun.json');
  const tsrunBlock = async () => {
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await run({ bundle: trueBundle }, { root });
      times.push(performance.now() - t0);
      if (r.exitCode !== 0) throw new Error(`run exited ${r.exitCode}`);
    }
  };
  const crunBlock = () => {
    const cmd = inCrunNs(['hyperfine', '-N', '--warmup', '1', '--runs', '10', '--export-json', hf, `crun --root ${crunRoot} run --bundle ${crunTrue} bench-crun-${tag}`]);
    execFileSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] });
    crunTimes.push(...JSON.parse(readFileSync(hf, 'utf8')).results[0].times.map((t) => t * 1000));
  };
  for (let r = 0; r < Math.max(1, Math.round(N / 20)); r++) {
    await tsrunBlock(); crunBlock(); crunBlock(); await tsrunBlock();
  }
  results.runTrueMs = median(times);
  results.crunRunTrueMs = median(crunTimes);
  results.runTrueSamples = times.length;

  // 2. 50 at once, interleaved with crun's 50 (ABBA, twice).
  const startPar = [];
  const crunPar = [];
  const crunParallel = () => {
    const cmd = inCrunNs([join(repo, 'bench/api-crun-parallel.sh'), String(PARALLEL), crunSleep, `bench-crun-${tag}-`]);
    const out = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', env: { ...process.env, PATH: process.env.PATH } });
    crunPar.push(Number(out.stdout.trim()));
  };
  const startParallel = async () => {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const started = await Promise.all(Array.from({ length: PARALLEL }, () => start({ bundle: crunSleep }, { root })));
    startPar.push((performance.now() - t0) / 1000);
    results.rssDuringMiB = (process.memoryUsage().rss) / 2 ** 20;
    results.rssGrowthMiB = (process.memoryUsage().rss - rss0) / 2 ** 20;
    await Promise.all(started.map((c) => c.stop({ timeoutMs: 0 })));
  };
  for (let r = 0; r < 2; r++) {
    await startParallel(); crunParallel(); crunParallel(); await startParallel();
  }
  results.startParallelS = median(startPar);
  results.crunRunDParallelS = median(crunPar);
  const t0 = performance.now();
  const ran = await Promise.all(Array.from({ length: PARALLEL }, () => run({ bundle: trueBundle }, { root })));
  results.runParallelS = (performance.now() - t0) / 1000;
  if (ran.some((r) => r.exitCode !== 0)) throw new Error('a parallel run failed');
  results.maxRssMiB = process.resourceUsage().maxRSS / 1024;

  // 3. start + Wait.forLog + stop vs the CLI.
  const apiCycle = [];
  const cliCycle = [];
  const tsrun = join(repo, 'bin/tsrun');
  const cliEnv = { ...process.env };
  delete cliEnv.NODE_EXTRA_CA_CERTS; // bin/tsrun drops it anyway
  const rounds = Math.max(5, Math.floor(N / 5));
  for (let i = 0; i < rounds; i++) {
    let t = performance.now();
    const c = await start({ bundle: serviceBundle }, { root, wait: Wait.forLog('ready') });
    await c.stop();
    apiCycle.push(performance.now() - t);
    const id = `bench-cli-${tag}-${i}`;
    const log = join(tmp, `${id}.log`);
    t = performance.now();
    execFileSync('sh', ['-c', `"$0" --root "$1" run -d --bundle "$2" "$3" >"$4" 2>&1 </dev/null`, tsrun, root, serviceBundle, id, log], { env: cliEnv });
    while (!readFileSync(log, 'utf8').includes('ready')) await new Promise((r) => setTimeout(r, 5));
    execFileSync(tsrun, ['--root', root, 'kill', id, 'TERM'], { env: cliEnv });
    execFileSync(tsrun, ['--root', root, 'delete', '-f', id], { env: cliEnv });
    cliCycle.push(performance.now() - t);
  }
  results.cycleApiMs = median(apiCycle);
  results.cycleCliMs = median(cliCycle);
} finally {
  rmSync(tmp, { recursive: true, force: true });
  // crun's cgroup of the /bin/true runs (absolute path, made in the namespace's view of v2).
  for (const d of [`/sys/fs/cgroup/unified/tsrun-bench-crun-${tag}`]) if (existsSync(d)) try { rmSync(d, { recursive: false }); } catch { /* not ours to force */ }
}
// Nothing of ours may stay: crun's cgroups (v1 ones too: it runs with the unified mount hidden) and our state.
const left = execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '6', '-type', 'd', '-name', `*bench-crun-${tag}*`], { encoding: 'utf8' }).trim();
if (left) console.error(`api-bench: cgroups left behind: ${left.replace(/\n/g, ' ')}`);
const cpu1 = cpuTimes();
const spent = cpu1.map((v, i) => v - (cpu0[i] ?? 0));
results.stealPercent = (100 * (spent[7] ?? 0)) / spent.reduce((a, b) => a + b, 0);
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/api.json'), JSON.stringify(results, null, 2) + '\n');
const r = results;
console.log(`| run() of /bin/true, median of ${r.runTrueSamples}, interleaved with crun's | ${ms(r.runTrueMs)} | crun run ${ms(r.crunRunTrueMs)} | ${(r.runTrueMs / r.crunRunTrueMs).toFixed(2)}x (goal ≤ 0.5x) |`);
console.log(`| ${PARALLEL} × start() at once, median of 4 interleaved with crun's | ${r.startParallelS.toFixed(3)} s | ${PARALLEL} × crun run -d ${r.crunRunDParallelS.toFixed(3)} s | ${(r.startParallelS / r.crunRunDParallelS).toFixed(2)}x (goal ≤ 1x) |`);
console.log(`| ${PARALLEL} × run() of /bin/true at once | ${r.runParallelS.toFixed(3)} s | | ${(r.runParallelS / r.crunRunDParallelS).toFixed(2)}x of crun's run -d |`);
console.log(`| test process memory | RSS ${r.rssDuringMiB.toFixed(0)} MiB with ${PARALLEL} live (+${r.rssGrowthMiB.toFixed(1)} MiB), max RSS ${r.maxRssMiB.toFixed(0)} MiB | | |`);
console.log(`| CPU time taken by the hypervisor (steal) during the run | ${r.stealPercent.toFixed(0)} % | | |`);
console.log(`| start + Wait.forLog + stop | ${ms(r.cycleApiMs)} | CLI run -d, poll log, kill, delete -f ${ms(r.cycleCliMs)} | ${(r.cycleApiMs / r.cycleCliMs).toFixed(2)}x |`);
