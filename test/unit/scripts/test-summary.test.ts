// scripts/test-summary.mjs: the closing line CI reads, from vitest's JSON reports. A test file whose
// process died (an abort in a native addon) leaves its tests "pending" in a report that says success:
// they were never run, and that must fail the run like a failed test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'tsrun-test-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Status = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';
function report(name: string, statuses: Status[], success = true): string {
  const count = (s: Status): number => statuses.filter((x) => x === s).length;
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    success, numPassedTests: count('passed'), numFailedTests: count('failed'),
    numPendingTests: count('skipped') + count('pending'), numTodoTests: count('todo'),
    testResults: [{ name: `/repo/test/${name}.test.ts`, status: 'passed', assertionResults: statuses.map((status, i) => ({ title: `test ${i}`, status })) }],
  }));
  return path;
}

const summary = (...reports: string[]): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [join(REPO, 'scripts/test-summary.mjs'), ...reports], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('scripts/test-summary.mjs', () => {
  it('counts passed, failed and skipped; exit 0 when nothing failed', () => {
    const r = summary(report('ok', ['passed', 'passed', 'skipped', 'todo']));
    expect(r.stdout).toBe('2 passed, 0 failed, 2 skipped\n');
    expect(r.status).toBe(0);
  });

  it('tests left pending (their test process died) fail the run, each named', () => {
    const r = summary(report('ok2', ['passed']), report('aborted', ['passed', 'pending', 'pending']));
    expect(r.stdout).toBe('2 passed, 0 failed, 0 skipped, 2 not run\n');
    expect(r.stderr).toContain('test-summary: not run (its test process ended before it): /repo/test/aborted.test.ts > test 1');
    expect(r.status).toBe(1);
  });

  it('a failed test or a missing report fails the run', () => {
    expect(summary(report('bad', ['passed', 'failed'])).status).toBe(1);
    expect(summary(join(dir, 'none.json')).status).toBe(1);
  });
});
