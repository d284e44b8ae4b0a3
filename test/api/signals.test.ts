// A test process is full of signals: SIGCHLD of every container, and a profiler's SIGPROF as often as
// every 50 µs (`node --cpu-prof --cpu-prof-interval 50`, or vitest's own profiling). Every system call
// the library makes must survive them: the eBPF device program's load (the verifier gives up with
// EAGAIN whenever a signal is pending) and the poll of the mount table (EINTR even without a wait)
// both failed the run under such a profiler, the second as "no cgroup v2 hierarchy mounted".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/bundle.js';
import { SAMPLE_BUNDLE, skipReason, testRoot } from './helpers.js';

const t = testRoot();
const profiles = mkdtempSync(join('/tmp', 'tsrun-api-prof-'));
afterAll(() => { t.remove(); rmSync(profiles, { recursive: true, force: true }); });

describe.skipIf(skipReason)('the library in a process full of signals', () => {
  it('runs containers under a profiler that sends SIGPROF every 50 µs', () => {
    const script = `
      const { run } = await import(${JSON.stringify(join(REPO, 'dist/api/index.js'))});
      for (let i = 0; i < 60; i++) {
        const r = await run({ bundle: ${JSON.stringify(SAMPLE_BUNDLE)}, cmd: ['echo', String(i)] }, { root: ${JSON.stringify(t.root)} });
        if (r.exitCode !== 0 || r.stdout !== i + '\\n') throw new Error('run ' + i + ': ' + JSON.stringify(r));
      }
      console.log('ok');`;
    const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profiles, '--cpu-prof-interval', '50', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
    expect(r.status).toBe(0);
    // The profiler did run (its SIGPROFs were there).
    expect(readdirSync(profiles).some((f) => f.endsWith('.cpuprofile'))).toBe(true);
  });
});
