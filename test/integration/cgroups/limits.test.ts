// Resource limits that need v2 controllers. On hybrid hosts like the build machines these are skipped
// with the reason in the test name; they run on pure v2 hosts and in the VM lane (`make test-vm`).
import { afterEach, describe, it } from 'vitest';
import { LIMIT_CASES } from './limit-cases.js';
import { cannotRun, cleanUp, skipNote } from './support.js';

afterEach(cleanUp);

describe('cgroup v2 limits', () => {
  for (const c of LIMIT_CASES) {
    it.skipIf(cannotRun(c.controllers))(`${c.name}${skipNote(c.controllers)}`, c.run, 60_000);
  }
});
