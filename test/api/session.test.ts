// The library with a session: a test process that starts two containers with start(spec, { session })
// and is then kill -9'd leaves nothing — its containers' processes die with it (parent-death
// signal), and the session's reaper deletes their state and cgroups.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { REPO } from '../helpers/bundle.js';
import { leftovers, SAMPLE_BUNDLE, skipReason } from './helpers.js';

const sessionsDir = mkdtempSync('/run/tsrun-api-sessions-');
afterAll(() => rmSync(sessionsDir, { recursive: true, force: true }));

const alive = (pid: number): boolean => {
  try { return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'); } catch { return false; }
};

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

describe.skipIf(skipReason)('start() in a session', () => {
  it('a test process kill -9\'d with two live containers leaves nothing behind', async () => {
    const script = `
      const { run, session, start, Wait } = await import(${JSON.stringify(join(REPO, 'dist/api/index.js'))});
      const s = await session({ sessionsDir: ${JSON.stringify(sessionsDir)} });
      // Containers that came and went first, four at once: their state dirs are kept as spares
      // (src/state/spare-dirs.ts), two of which the containers below take.
      await Promise.all([0, 1, 2, 3].map(() => run({ bundle: ${JSON.stringify(SAMPLE_BUNDLE)}, cmd: ['true'] }, { session: s })));
      const cs = await Promise.all([0, 1].map((i) => start({ bundle: ${JSON.stringify(SAMPLE_BUNDLE)}, cmd: ['sh', '-c', 'echo up; exec sleep 600'] }, { session: s, wait: Wait.forLog('up') })));
      console.log(JSON.stringify({ root: s.root, reaper: s.reaperPid, ids: cs.map((c) => c.id), pids: cs.map((c) => c.pid) }));
      setInterval(() => {}, 1e9);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => { child.kill('SIGKILL'); });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the test process exited (${code}) before its containers ran`)));
    });
    const made = JSON.parse(line) as { root: string; reaper: number; ids: string[]; pids: number[] };
    expect(made.ids).toHaveLength(2);
    expect(readdirSync(made.root).filter((n) => n.startsWith('.spare-'))).not.toEqual([]);
    for (const id of made.ids) expect(existsSync(join(made.root, id, 'state.json'))).toBe(true);
    expect(made.pids.every(alive)).toBe(true);
    child.kill('SIGKILL');
    expect(await until(() => made.pids.every((p) => !alive(p)), 5_000)).toBe(true);
    expect(await until(() => made.ids.every((id) => leftovers(made.root, id).length === 0), 15_000)).toBe(true);
    expect(await until(() => !alive(made.reaper), 5_000)).toBe(true);
    // The session's own root goes too, with the spare state dirs in it.
    expect(await until(() => !existsSync(made.root), 5_000)).toBe(true);
  });

  it('a test process that ends leaves no spare state dir in a root it shares, nor in its session\'s', async () => {
    const shared = mkdtempSync(join(sessionsDir, 'shared-'));
    const script = `
      const { run, session } = await import(${JSON.stringify(join(REPO, 'dist/api/index.js'))});
      for (let i = 0; i < 3; i++) await run({ bundle: ${JSON.stringify(SAMPLE_BUNDLE)}, cmd: ['true'] }, { root: ${JSON.stringify(shared)} });
      const s = await session({ sessionsDir: ${JSON.stringify(sessionsDir)}, reaper: false });
      for (let i = 0; i < 3; i++) await run({ bundle: ${JSON.stringify(SAMPLE_BUNDLE)}, cmd: ['true'] }, { session: s });
      const { readdirSync } = await import('node:fs');
      console.log(JSON.stringify({ root: s.root, shared: readdirSync(${JSON.stringify(shared)}), own: readdirSync(s.root) }));
      await s.close();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0);
    const seen = JSON.parse(out) as { root: string; shared: string[]; own: string[] };
    // While it ran, both roots held spares; once it is gone, neither holds anything.
    expect(seen.shared.filter((n) => n.startsWith('.spare-'))).not.toEqual([]);
    expect(seen.own.filter((n) => n.startsWith('.spare-'))).not.toEqual([]);
    expect(readdirSync(shared)).toEqual([]);
    expect(existsSync(seen.root)).toBe(false);
  });
});
