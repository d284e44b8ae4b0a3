// The spare state directories a library process keeps (src/state/spare-dirs.ts) go with the process
// however it ends short of SIGKILL: at exit, and at SIGTERM, SIGINT or SIGHUP, which is how vitest
// ends its fork workers (SIGTERM: Node runs no 'exit' handler for it). The signal keeps its effect:
// the process dies of it, or, if it handles the signal itself, carries on as it chose.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { REPO } from '../helpers/bundle.js';
import { SAMPLE_BUNDLE, skipReason } from './helpers.js';

const scratch = mkdtempSync('/run/tsrun-api-spares-');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A library process that ran 3 containers in `root`, said so, and waits (with a SIGTERM handler of its own if `ownHandler`). */
async function processWithSpares(root: string, ownHandler = false): Promise<{ child: ReturnType<typeof spawn>; spares: string[]; ended: Promise<[number | null, string | null]>; out: () => string }> {
  const script = `
    const { run } = await import(${JSON.stringify(join(REPO, 'dist/api/index.js'))});
    ${ownHandler ? "process.on('SIGTERM', () => { console.log('handled'); setTimeout(() => process.exit(7), 50); });" : ''}
    await Promise.all([0, 1, 2].map(() => run({ bundle: ${JSON.stringify(SAMPLE_BUNDLE)}, cmd: ['true'] }, { root: ${JSON.stringify(root)} })));
    const { readdirSync } = await import('node:fs');
    console.log(JSON.stringify(readdirSync(${JSON.stringify(root)})));
    setInterval(() => {}, 1e9);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(() => { child.kill('SIGKILL'); });
  let out = '';
  const ended = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void ended.then(([code]) => reject(new Error(`the library process exited (${code}) before its containers ran`)));
  });
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  return { child, spares: (JSON.parse(line) as string[]).filter((n) => n.startsWith('.spare-')), ended, out: () => out };
}

describe.skipIf(skipReason)('spare state directories of a library process', () => {
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    it(`go when it is ended by ${signal}, which still ends it`, async () => {
      const root = mkdtempSync(join(scratch, 'root-'));
      const p = await processWithSpares(root);
      expect(p.spares).not.toEqual([]);
      p.child.kill(signal);
      expect(await p.ended).toEqual([null, signal]);
      expect(readdirSync(root)).toEqual([]);
    });
  }

  it('go at a SIGTERM that the process handles itself, which then carries on as it chose', async () => {
    const root = mkdtempSync(join(scratch, 'root-'));
    const p = await processWithSpares(root, true);
    expect(p.spares).not.toEqual([]);
    p.child.kill('SIGTERM');
    expect(await p.ended).toEqual([7, null]);
    expect(p.out()).toContain('handled');
    expect(readdirSync(root)).toEqual([]);
  });
});
