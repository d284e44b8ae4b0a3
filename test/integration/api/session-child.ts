// The test process of session.test.ts: opens a session, starts containers in it with the CLI, prints
// what it made as one JSON line, then waits to be killed. Bundled by esbuild before it runs (Node
// 20 runs no TypeScript). argv: reaper on|off, root ('' for the session's own), the sessions dir, then bundle dirs.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { session } from '../../../src/api/session.js';

const [reaperArg, rootArg, sessionsDir, ...bundles] = process.argv.slice(2);
const s = await session({ reaper: reaperArg === 'on', sessionsDir: sessionsDir!, ...(rootArg ? { root: rootArg } : {}) });
const tsrun = join(process.env.TSRUN_PACKAGE_ROOT!, 'bin', 'tsrun');
const ids: string[] = [];
for (const [i, bundle] of bundles.entries()) {
  const configPath = join(bundle!, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { annotations?: Record<string, string> };
  config.annotations = { ...config.annotations, ...s.annotations };
  writeFileSync(configPath, JSON.stringify(config));
  const id = `${s.id}-c${i}`;
  // run -d hands its stdio to the container (runc's semantics): a pipe here would never see EOF.
  const log = join(bundle!, 'run.log');
  const fd = openSync(log, 'w');
  const r = spawnSync(tsrun, ['--root', s.root, 'run', '-d', '--bundle', bundle!, id], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (r.status !== 0) throw new Error(`run -d ${id}: ${readFileSync(log, 'utf8')}`);
  ids.push(id);
}
process.stdout.write(JSON.stringify({ id: s.id, root: s.root, reaperPid: s.reaperPid ?? null, ids }) + '\n');
setInterval(() => {}, 1_000_000);
