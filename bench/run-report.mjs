// Called by bench/run-bench.sh: reads hyperfine's JSON export (BENCH_RAW), writes the results file
// (BENCH_OUT: host facts, summary, hyperfine's raw export) and prints the table and a markdown
// summary on stdout. Times in hyperfine's export are seconds; everything printed is milliseconds.
import { readFileSync, writeFileSync } from 'node:fs';

const env = process.env;
const GOAL_MS = 15;
const raw = JSON.parse(readFileSync(env.BENCH_RAW, 'utf8'));
const byName = Object.fromEntries(raw.results.map((r) => [r.command, r]));
const ms = (s) => s * 1000;
const pick = (name) => {
  const r = byName[name];
  if (!r) throw new Error(`no result for ${name}`);
  return {
    name,
    command: r.command,
    median: ms(r.median), mean: ms(r.mean), stddev: ms(r.stddev ?? 0), min: ms(r.min), max: ms(r.max),
    runs: r.times.length,
  };
};
const rows = ['tsrun run', 'runc run', 'crun run', 'node -e 0', "unshare -m true"].map(pick);
const [tsrun, runc, crun, node, wrapper] = rows;
const hybrid = env.BENCH_HYBRID === '1';

const summary = {
  medianMs: Object.fromEntries(rows.map((r) => [r.name, +r.median.toFixed(2)])),
  tsrunOverRunc: +(tsrun.median / runc.median).toFixed(2),
  tsrunOverCrun: +(tsrun.median / crun.median).toFixed(2),
  tsrunMinusNodeMs: +(tsrun.median - node.median).toFixed(2),
  goalMs: GOAL_MS,
  goalMet: tsrun.median - node.median <= GOAL_MS,
  crunWithoutWrapperMs: hybrid ? +(crun.median - wrapper.median).toFixed(2) : null,
};
const meta = {
  date: env.BENCH_STAMP, runs: +env.BENCH_RUNS, warmup: +env.BENCH_WARMUP,
  git: env.BENCH_GIT, tsrun: env.BENCH_TSRUN, node: env.BENCH_NODE, runc: env.BENCH_RUNC,
  crun: env.BENCH_CRUN, hyperfine: env.BENCH_HYPERFINE, kernel: env.BENCH_KERNEL,
  cpus: +env.BENCH_CPUS, cpu: env.BENCH_CPU, hybridCgroups: hybrid, leftovers: env.BENCH_LEFTOVERS,
};
// hyperfine runs the commands one after another, so CPU use by other work skews the ratios. From
// /proc/stat around the run: all busy CPU time minus what the benchmarked commands used themselves.
const jiffies = (line) => line.trim().split(/\s+/).slice(1).map(Number);
const [b, a] = [jiffies(env.BENCH_STAT_BEFORE), jiffies(env.BENCH_STAT_AFTER)];
const busyOf = (j) => j[0] + j[1] + j[2] + j[5] + j[6] + j[7]; // user nice system irq softirq steal (guest is inside user)
const hostBusyS = (busyOf(a) - busyOf(b)) / +env.BENCH_HZ;
const wallS = +env.BENCH_UP_AFTER - +env.BENCH_UP_BEFORE;
const ownS = raw.results.reduce((t, r) => t + (r.user + r.system) * (r.times.length + meta.warmup), 0);
const othersCores = Math.max(0, hostBusyS - ownS) / wallS;
meta.otherCpuCores = +othersCores.toFixed(2);
const busy = othersCores > 0.15;
const loadNote = `other processes used ${othersCores.toFixed(2)} of ${meta.cpus} cores during the run` +
  (busy ? ' — the host was busy: figures are noisy, re-run on a quiet host before quoting them' : '');
writeFileSync(env.BENCH_OUT, JSON.stringify({ meta, summary, hyperfine: raw }, null, 2) + '\n');

const f1 = (x) => x.toFixed(1);
const pad = (s, n) => String(s).padEnd(n);
const padl = (s, n) => String(s).padStart(n);
const w = Math.max(...rows.map((r) => r.name.length));
const out = [];
out.push('');
out.push(`${pad('command', w)}  ${padl('median', 8)}  ${padl('mean', 8)}  ${padl('σ', 6)}  ${padl('min', 8)}  ${padl('max', 8)}   (ms)`);
for (const r of rows) {
  out.push(`${pad(r.name, w)}  ${padl(f1(r.median), 8)}  ${padl(f1(r.mean), 8)}  ${padl(f1(r.stddev), 6)}  ${padl(f1(r.min), 8)}  ${padl(f1(r.max), 8)}`);
}
out.push('');
const diff = tsrun.median - node.median;
const verdict = summary.goalMet
  ? `goal met (<= ${GOAL_MS} ms, ${f1(GOAL_MS - diff)} ms to spare)`
  : `goal missed by ${f1(diff - GOAL_MS)} ms (goal <= ${GOAL_MS} ms)`;
out.push(`tsrun / runc        ${summary.tsrunOverRunc.toFixed(2)}x`);
out.push(`tsrun / crun        ${summary.tsrunOverCrun.toFixed(2)}x`);
out.push(`tsrun - node -e 0   ${diff >= 0 ? '+' : ''}${f1(diff)} ms   ${verdict}`);
out.push(`${busy ? 'WARNING: ' : ''}${loadNote}`);
if (hybrid) out.push(`crun - unshare -m   ${f1(summary.crunWithoutWrapperMs)} ms   (crun's cost without the unshare wrapper it needs here; sh + umount still included)`);

// Markdown for the README.
const md = [];
md.push('');
md.push('<!-- bench/run-bench.sh output; paste into the README -->');
md.push(`#### \`run\` of /bin/true (${meta.date.slice(0, 10)}, ${meta.cpus} cores, kernel ${meta.kernel}${hybrid ? ', hybrid cgroups' : ''})`);
md.push('');
md.push('| command | median | mean ± σ | min … max |');
md.push('|---|---:|---:|---:|');
for (const r of rows) md.push(`| ${r.name} | ${f1(r.median)} ms | ${f1(r.mean)} ± ${f1(r.stddev)} ms | ${f1(r.min)} … ${f1(r.max)} ms |`);
md.push('');
md.push(`tsrun/runc **${summary.tsrunOverRunc.toFixed(2)}x**, tsrun/crun **${summary.tsrunOverCrun.toFixed(2)}x**; ` +
  `tsrun − \`node -e 0\` = **${diff >= 0 ? '+' : ''}${f1(diff)} ms** (goal ≤ ${GOAL_MS} ms: ${summary.goalMet ? 'met' : 'not met'}).`);
md.push('');
md.push(`hyperfine ${meta.hyperfine}, ${meta.runs} runs after ${meta.warmup} warm-up, \`--shell=none\`; tsrun ${meta.tsrun.replace(/^tsrun (version )?/, '')} (git ${meta.git}), ` +
  `Node ${meta.node}, runc ${meta.runc}, crun ${meta.crun}; static busybox bundle from \`make samples\` with ` +
  `process.args \`["/bin/true"]\`, runc and crun given an absolute \`linux.cgroupsPath\`` +
  (hybrid ? `; crun run as \`unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec crun run …'\` ` +
    `(it refuses hybrid cgroups), \`unshare -m true\` is the unshare part of that wrapper alone.` : '.') +
  ` Reproduce with \`make bench-run\` (\`RUNS=N\`); ${loadNote}.`);
console.log(out.join('\n'));
console.log(md.join('\n'));
