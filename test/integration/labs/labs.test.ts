// Runs every lab in docs/labs/ (one `it` per lab) and checks the output each one promises, so the docs
// cannot rot. Labs that need cgroup v2 controllers (lane=vm) are skipped here with the reason when this
// host lacks them (hybrid hosts); test/vm/labs-cgroups.test.ts runs them in the VM lane.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cgroup2Mount, LABS_DIR, labTests, loadLabs, runBlock } from '../../helpers/labs.js';
import { readFileSync } from 'node:fs';

const labs = loadLabs();

describe('docs/labs', () => {
  it('has the labs the index lists, in order, each in the lane the index says', () => {
    const index = readFileSync(join(LABS_DIR, 'README.md'), 'utf8');
    const rows = [...index.matchAll(/^\| \[(\d\d) [^\]]+\]\((\d\d-[a-z0-9-]+)\.md\) \|.*\| (host|VM lane[^|]*) \|$/gm)];
    expect(rows.map((r) => r[2])).toEqual(labs.map((l) => l.name));
    for (const r of rows) expect(r[1], r[2]).toBe(r[2]!.slice(0, 2));
    for (const r of rows) expect(labs.find((l) => l.name === r[2])!.lane, r[2]).toBe(r[3] === 'host' ? 'host' : 'vm');
    expect(labs.map((l) => l.name.slice(0, 2))).toEqual(labs.map((_l, i) => String(i + 1).padStart(2, '0')));
  });

  labTests(labs, 120_000);
});

// A cgroup lab cannot go on where the host lacks its controllers (a hybrid host): its first command says
// so in one line, with the one command that runs it in the VM, and the learner stops there.
describe('docs/labs: the cgroup labs stop cleanly where the host cannot run them', () => {
  const vmLabs = labs.filter((l) => l.lane === 'vm');

  it('every cgroup lab starts with docs/labs/need-cgroup.sh NN <the controllers it needs>', () => {
    expect(vmLabs.length).toBeGreaterThan(0);
    for (const lab of vmLabs) expect(lab.blocks[0]!.code.trim(), lab.name).toBe(`docs/labs/need-cgroup.sh ${lab.name.slice(0, 2)} ${lab.needs.join(' ')}`);
  });

  const mnt = cgroup2Mount();
  const have = mnt ? readFileSync(join(mnt, 'cgroup.controllers'), 'utf8').trim().split(/\s+/) : [];
  for (const lab of vmLabs) {
    const lacking = lab.needs.filter((c) => !have.includes(c));
    it.skipIf(lacking.length === 0)(`${lab.name}: on this host (lacks ${lacking.join(' ') || 'nothing'}) the first block prints one "stop:" line naming make lab-vm LAB=${lab.name.slice(0, 2)} and fails`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsrun-labguard-'));
      try {
        const r = await runBlock(lab.blocks[0]!.code, {}, 10, join(dir, 'out'));
        expect(r.code).toBe(1);
        const lines = r.output.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^stop: the cgroup v2 hierarchy at \\S+ lacks ${lacking.join(' ')}( \\(held by cgroup v1: a hybrid host\\))?; run this lab in the VM instead: make lab-vm LAB=${lab.name.slice(0, 2)}$`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
