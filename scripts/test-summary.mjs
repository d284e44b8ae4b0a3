// Prints one closing line "N passed, N failed, N skipped" from vitest JSON reports, so CI (which
// reads that plain line) sees the real counts, and exits non-zero if any report failed or is missing.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0, failed = 0, skipped = 0, missing = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) { console.error(`test-summary: no report ${file}`); missing++; continue; }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  if (!r.success && r.numFailedTests === 0) failed += 1; // a suite that failed to load counts as a failure
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing > 0 || passed === 0 ? 1 : 0);
