// The cgroup labs of docs/labs/ (memory limit and OOM kill, cpu.max, pids.max: those marked
// `<!-- lab lane=vm needs=… -->`) run here, in the VM lane (`make test-vm`: a pure cgroup v2 guest), and
// are checked against the output they promise. On a host without those v2 controllers (the hybrid
// development hosts) each is skipped with the reason.
import { describe, expect, it } from 'vitest';
import { labTests, loadLabs } from '../helpers/labs.js';

const labs = loadLabs().filter((l) => l.lane === 'vm');

describe('docs/labs in the VM lane (cgroup v2)', () => {
  it('finds the cgroup labs', () => {
    expect(labs.map((l) => l.name.slice(0, 2))).toEqual(['07', '08', '09', '19']);
  });

  labTests(labs, 170_000);
});
