// Prints one closing line "N passed, N failed, N skipped" from vitest JSON reports, so CI (which
// reads that plain line) sees the real counts, and exits non-zero if any report failed or is missing.
//
// A test vitest never ran because its file's test process died (an abort in a native addon, a
// crash) stays "pending" in a report that still says success; a test skipped on purpose is
// "skipped" (or "todo"). Pending ones are counted apart ("N not run"), named, and fail the run.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0, failed = 0, skipped = 0, missing = 0, notRun = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) { console.error(`test-summary: no report ${file}`); missing++; continue; }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const pending = (r.testResults ?? []).flatMap((f) => (f.assertionResults ?? []).filter((a) => a.status === 'pending').map((a) => `${f.name} > ${a.title}`));
  for (const name of pending) console.error(`test-summary: not run (its test process ended before it): ${name}`);
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  notRun += pending.length;
  skipped += r.numPendingTests - pending.length + (r.numTodoTests ?? 0);
  if (!r.success && r.numFailedTests === 0) failed += 1; // a suite that failed to load counts as a failure
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped${notRun ? `, ${notRun} not run` : ''}`);
process.exit(failed > 0 || missing > 0 || notRun > 0 || passed === 0 ? 1 : 0);
