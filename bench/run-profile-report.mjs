// Called by bench/run-profile.sh: turns the wall times, the --trace output, the strace logs and the
// CPU profile of `tsrun run /bin/true` into one breakdown (stdout) and PROF_BASE.json.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';

const env = process.env;
const tmp = env.PROF_TMP;
const runs = +env.PROF_RUNS;
const base = env.PROF_BASE;
const repo = env.PROF_REPO;

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '?');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '?');
const lines = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const out = [];
const result = { runs };

// 1. wall time without a tracer ------------------------------------------------------------------
const wallTsrun = median(lines(`${tmp}/wall-tsrun`).map((l) => +l / 1000));
const wallNode = median(lines(`${tmp}/wall-node`).map((l) => +l / 1000));
result.wall = { tsrunMs: wallTsrun, nodeMs: wallNode, tsrunMinusNodeMs: wallTsrun - wallNode };
out.push(`## tsrun run /bin/true: where the time goes (median of ${runs} where repeated)`);
out.push('');
const others = +env.PROF_OTHERS;
result.otherCpuCores = others;
out.push(`${others > 0.15 ? 'WARNING: ' : ''}other processes used ${others.toFixed(2)} of ${env.PROF_CPUS} cores while this ran` +
  (others > 0.15 ? ' — the host was busy: figures are noisy, re-run on a quiet host' : ''));
out.push('');
out.push(`untraced wall time   tsrun run ${f1(wallTsrun)} ms   node -e 0 ${f1(wallNode)} ms   difference ${f1(wallTsrun - wallNode)} ms (goal <= 15)`);

// 2. strace markers --------------------------------------------------------------------------------
// Lines: "PID HH:MM:SS.uuuuuu text". Timestamps are taken at syscall entry; a blocking call that
// another event interrupts shows as "<unfinished ...>" and later "<... name resumed>".
const parseStrace = (file) =>
  lines(file).map((l) => {
    const m = /^(\d+)\s+(\d\d):(\d\d):(\d\d\.\d+) (.*)$/.exec(l);
    if (!m) return null;
    return { pid: +m[1], t: ((+m[2] * 60 + +m[3]) * 60 + +m[4]) * 1000, text: m[5] };
  }).filter(Boolean);

function tsrunMarkers(file) {
  const ev = parseStrace(file);
  const root = ev[0].pid;
  const start = ev[0].t; // execve of node
  const cloneEv = ev.find((e) => e.pid === root && /^clone3?\(.*CLONE_NEW/.test(e.text)) ??
    ev.find((e) => /^clone3?\(/.test(e.text) && !/CLONE_THREAD/.test(e.text));
  const execEv = ev.find((e) => e.pid !== root && /^execve\("\/bin\/true"/.test(e.text));
  const cpid = execEv?.pid;
  const cexit = ev.find((e) => e.pid === cpid && /^exit_group\(/.test(e.text));
  const cgone = ev.find((e) => e.pid === cpid && /^\+\+\+ exited/.test(e.text));
  const waits = ev.filter((e) => new RegExp(`^(wait4\\(${cpid}|<\\.\\.\\. wait4 resumed>.*= ${cpid}$)`).test(e.text));
  const reaped = waits.find((e) => /resumed/.test(e.text)) ?? waits.find((e) => new RegExp(`= ${cpid}$`).test(e.text));
  const exitGroup = ev.find((e) => e.pid === root && /^exit_group\(/.test(e.text));
  const gone = ev.find((e) => e.pid === root && /^\+\+\+ exited/.test(e.text));
  const d = (a, b) => (a && b ? b.t - a.t : NaN);
  const first = { t: start };
  return {
    'node start -> clone of the container': d(first, cloneEv),
    'clone -> execve /bin/true': d(cloneEv, execEv),
    '/bin/true runs (execve -> its exit_group)': d(execEv, cexit),
    'container exit -> reaped (wait4 returns)': d(cexit, reaped),
    'reaped -> tsrun exit_group': d(reaped, exitGroup),
    'exit_group -> tsrun process gone': d(exitGroup, gone),
    'execve /bin/true -> tsrun exit_group': d(execEv, exitGroup),
    total: d(first, gone),
    _containerGone: d(cexit, cgone),
  };
}
function nodeMarkers(file) {
  const ev = parseStrace(file);
  const root = ev[0].pid;
  const exitGroup = ev.find((e) => e.pid === root && /^exit_group\(/.test(e.text));
  const gone = ev.find((e) => e.pid === root && /^\+\+\+ exited/.test(e.text));
  return { 'start -> exit_group': exitGroup.t - ev[0].t, 'exit_group -> gone': gone.t - exitGroup.t, total: gone.t - ev[0].t };
}
const medianOf = (objs) => Object.fromEntries(Object.keys(objs[0]).map((k) => [k, median(objs.map((o) => o[k]))]));
const idx = [...Array(runs).keys()];
const st = medianOf(idx.map((i) => tsrunMarkers(`${tmp}/strace-tsrun.${i}`)));
const sn = medianOf(idx.map((i) => nodeMarkers(`${tmp}/strace-node.${i}`)));
delete st._containerGone;
result.strace = { options: env.PROF_STRACE_OPTS, tsrun: st, node: sn };
out.push('');
out.push(`### strace wall-clock markers (strace ${env.PROF_STRACE_OPTS}; tracing adds overhead)`);
out.push('');
out.push('| phase | tsrun run | node -e 0 |');
out.push('|---|---:|---:|');
const pre = st['node start -> clone of the container'];
out.push(`| node start -> clone of the container | ${f1(pre)} ms | ${f1(sn['start -> exit_group'])} ms (start -> exit_group) |`);
for (const k of ['clone -> execve /bin/true', '/bin/true runs (execve -> its exit_group)', 'container exit -> reaped (wait4 returns)', 'reaped -> tsrun exit_group'])
  out.push(`| ${k} | ${f2(st[k])} ms | |`);
out.push(`| exit_group -> process gone | ${f2(st['exit_group -> tsrun process gone'])} ms | ${f2(sn['exit_group -> gone'])} ms |`);
out.push(`| **total under strace** | **${f1(st.total)} ms** | **${f1(sn.total)} ms** |`);
out.push('');
out.push(`three phases: start -> clone ${f1(pre)} ms, clone -> exec of /bin/true ${f1(st['clone -> execve /bin/true'])} ms, ` +
  `exec -> tsrun exit_group ${f1(st['execve /bin/true -> tsrun exit_group'])} ms (+ ${f1(st['exit_group -> tsrun process gone'])} ms until the process is gone)`);
out.push(`Before the clone tsrun spends ${f1(pre - sn['start -> exit_group'])} ms more than node -e 0 takes to start and reach exit (loading tsrun, config, plan); ` +
  `strace overhead (traced − untraced medians): tsrun ${f1(st.total - wallTsrun)} ms, node ${f1(sn.total - wallNode)} ms.`);

// 3. --trace ---------------------------------------------------------------------------------------
const traceRe = /^trace (parent|step\s+(\d+))\s+(ok|exec|skipped \(\w+\)|\w+)\s+(?:([\d.]+)ms)?\s+(.*)$/;
const steps = lines(`${base}.trace.txt`).map((l) => traceRe.exec(l)).filter(Boolean).map((m) => ({
  who: m[1] === 'parent' ? 'parent' : 'child', step: m[2] === undefined ? undefined : +m[2],
  result: m[3], ms: m[4] === undefined ? 0 : +m[4], title: m[5].trim(),
}));
const sum = (xs) => xs.reduce((a, s) => a + s.ms, 0);
const parentMs = sum(steps.filter((s) => s.who === 'parent'));
const childMs = sum(steps.filter((s) => s.who === 'child'));
const slow = [...steps].sort((a, b) => b.ms - a.ms).slice(0, 6);
result.trace = { steps: steps.length, parentMs, childMs, slowest: slow };
out.push('');
out.push(`### tsrun --trace (one run): ${steps.length} steps, parent ${f2(parentMs)} ms, child plan ${f2(childMs)} ms`);
out.push('');
for (const s of slow) out.push(`- ${f2(s.ms)} ms  ${s.who === 'parent' ? 'parent' : `step ${s.step}`}  ${s.title.length > 110 ? s.title.slice(0, 107) + '...' : s.title}`);

// 4. CPU profile ----------------------------------------------------------------------------------
const prof = JSON.parse(readFileSync(`${base}.cpuprofile`, 'utf8'));
const maps = new Map();
const sourceMapFor = (url) => {
  if (!maps.has(url)) {
    let sm = null;
    try {
      const file = fileURLToPath(url);
      if (existsSync(`${file}.map`)) sm = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')));
    } catch { /* not a file URL or no map */ }
    maps.set(url, sm);
  }
  return maps.get(url);
};
const distUrl = `file://${repo}/dist/`;
// Where a call frame comes from: an original source (via the bundle's map), a Node internal, V8.
function origin(cf) {
  if (!cf.url) return { group: /^\(/.test(cf.functionName) ? cf.functionName : `native: ${cf.functionName}`, where: '' };
  if (cf.url.startsWith('node:')) {
    return { group: cf.url.startsWith('node:internal/modules') ? 'node: module loading' : 'node: other internals', where: cf.url };
  }
  let src = cf.url;
  let line = cf.lineNumber + 1;
  const sm = cf.url.startsWith('file:') ? sourceMapFor(cf.url) : null;
  if (sm && cf.lineNumber >= 0) {
    const e = sm.findEntry(cf.lineNumber, cf.columnNumber);
    if (e?.originalSource) {
      src = e.originalSource;
      line = e.originalLine + 1;
    }
  }
  src = src.startsWith('file:') ? relative(repo, fileURLToPath(src)) : src;
  src = src.replace(/^(\.\.\/)+/, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(src);
  const group = pkg ? `npm: ${pkg[1]}` : cf.url.startsWith(distUrl) ? `tsrun: ${src}` : src;
  return { group, where: `${src}:${line}` };
}
const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = (prof.timeDeltas[i + 1] ?? 0) / 1000; // ms until the next sample
  self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + dt);
}
const spanMs = (prof.endTime - prof.startTime) / 1000;
// Inclusive time by origin: a sample counts once for every origin on its stack.
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
for (const [id, ms] of self) {
  const seen = new Set();
  for (let n = id; n !== undefined; n = parent.get(n)) {
    const cf = nodes.get(n).callFrame;
    if (cf.functionName === '(root)') continue;
    seen.add(origin(cf).group);
  }
  for (const g of seen) incl.set(g, (incl.get(g) ?? 0) + ms);
}
const groups = new Map();
const funcs = new Map();
for (const [id, ms] of self) {
  const cf = nodes.get(id).callFrame;
  const o = origin(cf);
  groups.set(o.group, (groups.get(o.group) ?? 0) + ms);
  const key = `${cf.functionName || '(anonymous)'}  ${o.where}`;
  funcs.set(key, (funcs.get(key) ?? 0) + ms);
}
const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
result.cpuProfile = { spanMs, selfByGroup: Object.fromEntries(top(groups, 100)), inclusiveByGroup: Object.fromEntries(top(incl, 100)), topFunctions: Object.fromEntries(top(funcs, 25)) };
out.push('');
out.push(`### node --cpu-prof (one run, 500 µs sampling): ${f1(spanMs)} ms profiled (from after Node's bootstrap to exit)`);
out.push('');
out.push('by origin      self   (%)   incl. (stack contains it)');
for (const [g, ms] of top(groups, 16)) out.push(`  ${f1(ms).padStart(9)} ms  ${(100 * ms / spanMs).toFixed(0).padStart(3)}%  ${f1(incl.get(g) ?? 0).padStart(6)} ms  ${g}`);
out.push('');
out.push('heaviest functions (self time):');
for (const [k, ms] of top(funcs, 12)) out.push(`  ${f1(ms).padStart(6)} ms  ${k}`);

writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + '\n');
console.log(out.join('\n'));
