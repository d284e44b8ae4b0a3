#!/usr/bin/env node
// Interleaved A/B of two tsrun builds: `run` of /bin/true, `exec ID /bin/true` into a running
// container, `state ID` and `list`, alternating A and B (ABBA order) so that a busy moment of the machine hits both alike.
//
//   node bench/ab-start.mjs A_TSRUN B_TSRUN [ROUNDS]      (as root; A_TSRUN, B_TSRUN: bin/tsrun of each build)
//
// B_ENV='K=V …' adds variables to B's environment only (e.g. B_ENV=TSRUN_INIT_COPY=memfd with the
// same build as A and B measures the sealed memfd copy against the read-only mount).
// Prints, per command, the median wall time of each build and the median of the paired differences
// (B - A). Each build gets its own state root, bundles and container; all are removed at the end.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const [a, b, roundsArg] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/ab-start.mjs A_TSRUN B_TSRUN [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 100);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sample = join(repo, 'rootfs-samples/build/busybox');
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

const tmp = mkdtempSync(join(tmpdir(), 'tsrun-ab-'));
cpSync(join(sample, 'rootfs'), join(tmp, 'rootfs'), { recursive: true, verbatimSymlinks: true });
function bundle(name, args) {
  const config = JSON.parse(readFileSync(join(sample, 'config.json'), 'utf8'));
  config.process.args = args;
  config.process.terminal = false;
  config.root = { path: join(tmp, 'rootfs'), readonly: true };
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}
const trueBundle = bundle('true', ['/bin/true']);
const sleepBundle = bundle('sleep', ['sleep', '100000']);

const envB = { ...env, ...Object.fromEntries((process.env.B_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) };

function timed(cli, args, e = env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cli, args, { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cli} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return ms;
}

const builds = [a, b].map((cli, i) => ({ cli, env: i === 1 ? envB : env, root: join(tmp, `root-${i}`), id: `ab-${process.pid}-${i}` }));
const median = (v) => { const s = [...v].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

try {
  for (const x of builds) {
    const r = spawnSync(x.cli, ['--root', x.root, 'run', '-d', '--bundle', sleepBundle, x.id], { env: x.env, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${x.cli} run -d failed`);
  }
  const commands = {
    'run /bin/true': (x, n) => ['--root', x.root, 'run', '--bundle', trueBundle, `${x.id}-r${n}`],
    'exec ID /bin/true': (x) => ['--root', x.root, 'exec', x.id, '/bin/true'],
    'state ID': (x) => ['--root', x.root, 'state', x.id],
    'list': (x) => ['--root', x.root, 'list'],
  };
  // AB_COMMANDS='state ID,list' measures only those (each command's rounds take their own minute or so).
  const only = process.env.AB_COMMANDS?.split(',');
  for (const [name, argsOf] of Object.entries(commands).filter(([n]) => !only || only.includes(n))) {
    const times = [[], []];
    for (let n = 0; n < 3; n++) for (const [i, x] of builds.entries()) timed(x.cli, argsOf(x, `w${n}${i}`), x.env);
    for (let n = 0; n < rounds; n++) {
      const order = n % 2 ? [1, 0] : [0, 1];
      for (const i of order) times[i].push(timed(builds[i].cli, argsOf(builds[i], n), builds[i].env));
    }
    const diff = times[1].map((t, i) => t - times[0][i]);
    console.log(`${name.padEnd(18)} A ${median(times[0]).toFixed(2)} ms  B ${median(times[1]).toFixed(2)} ms  B-A (median of pairs) ${median(diff) >= 0 ? '+' : ''}${median(diff).toFixed(2)} ms  (${rounds} rounds)`);
  }
} finally {
  for (const x of builds) spawnSync(x.cli, ['--root', x.root, 'delete', '--force', x.id], { env, stdio: 'ignore' });
  rmSync(tmp, { recursive: true, force: true });
}
