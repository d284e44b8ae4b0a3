// Reads a V8 log written with --log-function-events (bench/lazy-functions.sh) and prints, per script,
// the functions compiled at run time: count, total parse + compile time as V8 measured it (the log
// itself slows V8 down, so read it as a ranking) and names. Usage: node lazy-functions-report.mjs LOG [all]
import { readFileSync } from 'node:fs';

const [file, all] = process.argv.slice(2);
const scripts = new Map(); // id -> name
const compiled = new Map(); // id -> { ms, names[] }
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const f = line.split(',');
  if (f[0] === 'script-details') scripts.set(f[1], f[2] || `(script ${f[1]})`);
  if (f[0] !== 'function' || (f[1] !== 'parse-function' && f[1] !== 'interpreter')) continue;
  // function,EVENT,SCRIPT,START,END,TIME_MS,TIMESTAMP,NAME
  const entry = compiled.get(f[2]) ?? { ms: 0, names: [] };
  entry.ms += Number(f[5]);
  if (f[1] === 'interpreter') entry.names.push(f.slice(7).join(',') || '(anonymous)');
  compiled.set(f[2], entry);
}
const rows = [...compiled].map(([id, e]) => ({ script: scripts.get(id) ?? `(script ${id})`, ...e })).sort((a, b) => b.ms - a.ms);
const total = rows.reduce((n, r) => n + r.names.length, 0);
const ms = rows.reduce((n, r) => n + r.ms, 0);
console.log(`${total} functions compiled during the run, ${ms.toFixed(2)} ms of parsing and compiling as logged\n`);
for (const r of all ? rows : rows.slice(0, 10)) {
  console.log(`${String(r.names.length).padStart(4)}  ${r.ms.toFixed(3).padStart(7)} ms  ${r.script}`);
  console.log(`      ${r.names.join(' ')}\n`);
}
