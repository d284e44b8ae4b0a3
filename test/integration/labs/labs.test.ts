// Runs every lab in docs/labs/ (one `it` per lab) and checks the output each one promises, so the docs
// cannot rot. Labs that need cgroup v2 controllers (lane=vm) are skipped here with the reason when this
// host lacks them (hybrid hosts); test/vm/labs-cgroups.test.ts runs them in the VM lane.
import { describe, expect, it } from 'vitest';
import { labTests, loadLabs } from '../../helpers/labs.js';

const labs = loadLabs();

describe('docs/labs', () => {
  it('has the labs the index lists, in order', () => {
    expect(labs.map((l) => l.name.slice(0, 2))).toEqual(
      ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11'],
    );
  });

  labTests(labs, 120_000);
});
