// Called by bench/lifecycle-bench.sh: reads the three hyperfine exports ($LC_TMP/lc-<rt>/hyperfine.json)
// and the parallel phases' lines ($LC_PAR: "runtime round phase seconds failed"), writes the results
// file ($LC_OUT) and prints the table and a markdown summary for the README on stdout.
import { readFileSync, writeFileSync } from 'node:fs';

const env = process.env;
const RTS = ['tsrun', 'runc', 'crun'];
const STEPS = ['create', 'start', 'delete -f', 'cycle'];
const PHASES = [
  ['run -d', ['run-d-1', 'run-d-2']],
  ['delete -f, one by one', ['delete-serial']],
  ['delete -f, all at once', ['delete-parallel']],
];
const N = +env.LC_N;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Hyperfine: median (ms) per runtime and step.
const raw = {};
const steps = {};
for (const rt of RTS) {
  raw[rt] = JSON.parse(readFileSync(`${env.LC_TMP}/lc-${rt}/hyperfine.json`, 'utf8'));
  steps[rt] = {};
  for (const step of STEPS) {
    const r = raw[rt].results.find((x) => x.command === `${rt} ${step}`);
    if (!r) throw new Error(`no hyperfine result for ${rt} ${step}`);
    steps[rt][step] = { median: r.median * 1000, mean: r.mean * 1000, stddev: (r.stddev ?? 0) * 1000, min: r.min * 1000, max: r.max * 1000 };
  }
  steps[rt]['sum of steps'] = { median: ['create', 'start', 'delete -f'].reduce((t, s) => t + steps[rt][s].median, 0) };
}

// Parallel phases: seconds per round, failures.
const samples = {};
for (const line of readFileSync(env.LC_PAR, 'utf8').split('\n')) {
  const [rt, round, phase, secs, failed] = line.trim().split(/\s+/);
  if (!rt || !RTS.includes(rt)) continue;
  ((samples[rt] ??= {})[phase] ??= []).push({ round: +round, seconds: +secs, failed: +failed });
}
const par = {};
for (const rt of RTS) {
  par[rt] = {};
  for (const [label, keys] of PHASES) {
    const xs = keys.flatMap((k) => samples[rt]?.[k] ?? []);
    par[rt][label] = {
      median: median(xs.map((x) => x.seconds)), min: Math.min(...xs.map((x) => x.seconds)),
      max: Math.max(...xs.map((x) => x.seconds)), samples: xs.length, failed: xs.reduce((t, x) => t + x.failed, 0),
    };
  }
}

const ratio = (a, b) => +(a / b).toFixed(2);
const hybrid = env.LC_HYBRID === '1';
const meta = {
  date: env.LC_STAMP, runs: +env.LC_RUNS, warmup: +env.LC_WARMUP, rounds: +env.LC_ROUNDS, parallel: N,
  git: env.LC_GIT, tsrun: env.LC_TSRUN, node: env.LC_NODE, runc: env.LC_RUNC, crun: env.LC_CRUN,
  hyperfine: env.LC_HYPERFINE, kernel: env.LC_KERNEL, cpus: +env.LC_CPUS, cpu: env.LC_CPU,
  hybridCgroups: hybrid, leftovers: env.LC_LEFTOVERS, distRebuiltDuringRun: env.LC_REBUILT === '1',
  otherCpuCores: { before: +env.LC_LOAD_BEFORE, during: +env.LC_LOAD_DURING, after: +env.LC_LOAD_AFTER },
  loadavg: { before: env.LC_LOADAVG_BEFORE, after: env.LC_LOADAVG_AFTER },
  stderr: env.LC_STDERR || null,
  nodeExtraCaCerts: env.LC_NODE_EXTRA_CA_CERTS || null,
};
const summary = { stepMedianMs: {}, parallelMedianS: {}, ratios: {} };
for (const rt of RTS) {
  summary.stepMedianMs[rt] = Object.fromEntries(Object.entries(steps[rt]).map(([k, v]) => [k, +v.median.toFixed(2)]));
  summary.parallelMedianS[rt] = Object.fromEntries(Object.entries(par[rt]).map(([k, v]) => [k, +v.median.toFixed(3)]));
}
for (const step of [...STEPS, 'sum of steps']) {
  summary.ratios[step] = { runc: ratio(steps.tsrun[step].median, steps.runc[step].median), crun: ratio(steps.tsrun[step].median, steps.crun[step].median) };
}
for (const [label] of PHASES) {
  summary.ratios[`${N} × ${label}`] = { runc: ratio(par.tsrun[label].median, par.runc[label].median), crun: ratio(par.tsrun[label].median, par.crun[label].median) };
}
summary.failures = Object.fromEntries(RTS.map((rt) => [rt, Object.values(par[rt]).reduce((t, v) => t + v.failed, 0)]));

const { before, during, after } = meta.otherCpuCores;
const busy = Math.max(before, during, after) > 0.15;
const loadNote = `other processes used ${before.toFixed(2)} / ${during.toFixed(2)} / ${after.toFixed(2)} of ${meta.cpus} cores ` +
  `before / during / after the run (load average ${meta.loadavg.before} → ${meta.loadavg.after})` +
  (busy ? ' — the host was busy: figures are noisy, re-run on a quiet host before quoting them' : '');
meta.loadNote = loadNote;
writeFileSync(env.LC_OUT, JSON.stringify({ meta, summary, steps, parallel: par, parallelSamples: samples, hyperfine: raw }, null, 2) + '\n');

// Text table.
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '—');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const padl = (s, n) => String(s).padStart(n);
const pad = (s, n) => String(s).padEnd(n);
const rowsStep = [...STEPS, 'sum of steps'];
const rowsPar = PHASES.map(([l]) => l);
const w = Math.max(...rowsStep.map((s) => s.length), ...rowsPar.map((s) => `${N} × ${s}`.length));
const out = [''];
out.push(`${pad('one container (ms, median)', w)}  ${padl('tsrun', 8)}  ${padl('runc', 8)}  ${padl('crun', 8)}  ${padl('/runc', 6)}  ${padl('/crun', 6)}`);
for (const s of rowsStep) {
  const [t, r, c] = RTS.map((rt) => steps[rt][s].median);
  out.push(`${pad(s, w)}  ${padl(f1(t), 8)}  ${padl(f1(r), 8)}  ${padl(f1(c), 8)}  ${padl(f2(t / r) + 'x', 6)}  ${padl(f2(t / c) + 'x', 6)}`);
}
out.push('');
out.push(`${pad(`${N} containers (s, median)`, w)}  ${padl('tsrun', 8)}  ${padl('runc', 8)}  ${padl('crun', 8)}  ${padl('/runc', 6)}  ${padl('/crun', 6)}`);
for (const l of rowsPar) {
  const [t, r, c] = RTS.map((rt) => par[rt][l].median);
  out.push(`${pad(`${N} × ${l}`, w)}  ${padl(f2(t), 8)}  ${padl(f2(r), 8)}  ${padl(f2(c), 8)}  ${padl(f2(t / r) + 'x', 6)}  ${padl(f2(t / c) + 'x', 6)}`);
}
const serialPer = RTS.map((rt) => `${rt} ${f1((par[rt]['delete -f, one by one'].median * 1000) / N)}`).join(', ');
out.push(`delete -f one by one, per container: ${serialPer} ms`);
out.push(`samples: ${meta.runs} hyperfine runs per step; ${meta.rounds} round(s) of the parallel phases (run -d twice per round)`);
const failed = RTS.filter((rt) => summary.failures[rt] > 0);
if (failed.length) out.push(`FAILURES in the parallel phases: ${failed.map((rt) => `${rt} ${summary.failures[rt]}`).join(', ')} (see stderr above)`);
if (meta.distRebuiltDuringRun) out.push('WARNING: dist/ was rebuilt during the run (make build elsewhere): tsrun figures mix two builds; re-run');
if (meta.stderr) out.push(`runtimes wrote to stderr: ${meta.stderr.trim().replace(/\n/g, ' | ')}`);
out.push(`${busy ? 'WARNING: ' : ''}${loadNote}`);
if (meta.nodeExtraCaCerts) out.push(`NODE_EXTRA_CA_CERTS=${meta.nodeExtraCaCerts} was set: each tsrun command (each Node start) loaded it first; UNSET_NODE_EXTRA_CA_CERTS=1 measures without`);

// Markdown for the README.
const md = [''];
md.push('<!-- bench/lifecycle-bench.sh output; paste into the README -->');
md.push(`#### Lifecycle: create/start/delete and ${N} containers at once (${meta.date.slice(0, 10)}, ${meta.cpus} cores, kernel ${meta.kernel}${hybrid ? ', hybrid cgroups' : ''})`);
md.push('');
md.push('| one container, median | tsrun | runc | crun | tsrun/runc | tsrun/crun |');
md.push('|---|---:|---:|---:|---:|---:|');
for (const s of rowsStep) {
  const [t, r, c] = RTS.map((rt) => steps[rt][s].median);
  const name = s === 'cycle' ? 'create + start + delete -f (sh script)' : s === 'delete -f' ? '`delete -f` (running)' : s === 'sum of steps' ? 'sum of the three steps' : `\`${s}\``;
  md.push(`| ${name} | ${f1(t)} ms | ${f1(r)} ms | ${f1(c)} ms | ${f2(t / r)}x | ${f2(t / c)}x |`);
}
for (const l of rowsPar) {
  const [t, r, c] = RTS.map((rt) => par[rt][l].median);
  md.push(`| ${N} × \`${l.replace(/,.*/, '')}\`${l.includes(',') ? l.replace(/^[^,]*/, '') : ' at once'} (wall) | ${f2(t)} s | ${f2(r)} s | ${f2(c)} s | ${f2(t / r)}x | ${f2(t / c)}x |`);
}
md.push('');
md.push(`hyperfine ${meta.hyperfine}, \`--shell=none\`, ${meta.runs} runs after ${meta.warmup} warm-up per step; each step timed alone ` +
  `(the steps before it are hyperfine's \`--prepare\`); parallel phases: median of ${meta.rounds} round(s) (\`run -d\`: ${2 * meta.rounds} samples). ` +
  `tsrun ${meta.tsrun.replace(/^tsrun (version )?/, '')} (git ${meta.git}), Node ${meta.node}, runc ${meta.runc}, crun ${meta.crun}; ` +
  `static busybox bundle from \`make samples\` running \`sleep 1000\`, every container its own config with an absolute \`linux.cgroupsPath\`, ` +
  `every runtime its own \`--root\`` +
  (hybrid ? `; crun's hyperfine and parallel phases run inside one private mount namespace with \`/sys/fs/cgroup/unified\` unmounted (it refuses hybrid cgroups), so no wrapper is timed` : '') +
  (meta.nodeExtraCaCerts ? `; \`NODE_EXTRA_CA_CERTS\` was set (Node loads that CA bundle at every start)` : '; `NODE_EXTRA_CA_CERTS` unset') +
  `. Reproduce with \`make bench-lifecycle\` (\`RUNS=\`, \`ROUNDS=\`, \`PARALLEL=\`); ${loadNote}.`);
console.log(out.join('\n'));
console.log(md.join('\n'));
