// How steps read in `explain`, `explain --short` and --trace: short capability lines, the reason an
// optional step was skipped, one man page per namespace kind, and the ~30-line summary of a plan.
import { describe, expect, it } from 'vitest';
import { manPage } from '../../../src/cli/reporters/trace.js';
import { containerPlan as buildPlan } from '../../../src/plan/container.js';
import { capList, describeStep, namespaceManPage, skipReason } from '../../../src/abi/describe-step.js';
import { formatSummaryLine, summarizeSteps } from '../../../src/plan/summary.js';
import type { Step } from '../../../src/abi/steps.js';
import { capabilityMask } from '../../../src/abi/capabilities.js';
import { planContext, planSpec } from '../../helpers/plan-context.js';

const plan = buildPlan(planSpec(), planContext);
const step = <O extends Step['op']>(op: O): Extract<Step, { op: O }> => plan.steps.find((s) => s.op === op) as Extract<Step, { op: O }>;

describe('describeStep: capability lines', () => {
  it('names the kept capabilities of the bounding set and counts the dropped ones', () => {
    expect(describeStep(step('bounding'))).toBe(`bounding set: keep [${step('bounding').keepNames.join(' ')}], drop the other 38`);
    expect(describeStep(step('bounding')).length).toBeLessThan(100);
  });

  it('names the dropped ones when fewer are dropped than kept', () => {
    const keep = capabilityMask(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']) ^ ((1n << 41n) - 1n);
    expect(describeStep({ op: 'bounding', keep, keepNames: [], why: '' })).toMatch(/^bounding set: keep none/);
    const s: Step = { op: 'bounding', keep, keepNames: Array.from({ length: 39 }, (_v, i) => `C${i}`), why: '' };
    expect(describeStep(s)).toBe('bounding set: drop [CAP_NET_ADMIN CAP_SYS_ADMIN], keep the other 39');
  });

  it('writes capset masks as names, or what is missing, or a count', () => {
    expect(describeStep(step('capset'))).toMatch(/^capset effective and permitted \[CAP_\w+ CAP_\w+ CAP_\w+\], inheritable \[\]$/);
    expect(capList((1n << 41n) - 1n)).toBe('[all]');
    expect(capList(((1n << 41n) - 1n) & ~capabilityMask(['CAP_SYS_ADMIN']))).toBe('[all but CAP_SYS_ADMIN]');
    expect(capList(capabilityMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID', 'CAP_SETGID', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE']))).toMatch(/^\[12 capabilities, mask 0x/);
  });
});

describe('skipReason', () => {
  it('says why a masked or read-only path was skipped: it does not exist, and the field names paths where they exist', () => {
    const mask = plan.steps.find((s) => s.op === 'mask' && s.path === '/proc/kcore')!;
    expect(skipReason(mask)).toBe('optional: /proc/kcore does not exist in this container (this kernel or image has no such file), so there is nothing to hide; linux.maskedPaths names paths to hide where they exist');
    const ro = plan.steps.find((s) => s.field?.startsWith('linux.readonlyPaths') && s.op === 'mount')!;
    expect(skipReason(ro)).toMatch(/^optional: \/proc\/\S+ does not exist in this container .* nothing to make read-only; linux\.readonlyPaths/);
  });
});

describe('man pages', () => {
  it('links each namespace kind to its own page in section 7', () => {
    for (const t of ['pid', 'user', 'network', 'mount', 'cgroup', 'time', 'ipc', 'uts'] as const) {
      const m = manPage(namespaceManPage(t));
      expect(m.ref).toBe(`${t}_namespaces(7)`);
      expect(m.url).toBe(`https://man7.org/linux/man-pages/man7/${t}_namespaces.7.html`);
    }
    expect(manPage('clone3').ref).toBe('clone3(2)');
    expect(manPage('cgroups').ref).toBe('cgroups(7)');
  });
});

describe('summarizeSteps (explain --short)', () => {
  const lines = summarizeSteps(plan.steps, planContext.rootfs);

  it('covers every step once, in order, in about thirty lines for the default spec', () => {
    expect(lines.length).toBeLessThanOrEqual(32);
    let next = 0;
    for (const l of lines) { expect(l.from).toBe(next); expect(l.to).toBeGreaterThanOrEqual(l.from); next = l.to + 1; }
    expect(next).toBe(plan.steps.length);
  });

  it('collapses a config list into one line naming what it acts on', () => {
    const masks = lines.find((l) => l.text.startsWith('mask '))!;
    expect(plan.steps.slice(masks.from, masks.to + 1).every((s) => s.op === 'mask')).toBe(true);
    expect(masks.text).toMatch(/^mask \/proc\/acpi .*\[linux\.maskedPaths\]$/);
    expect(lines.find((l) => l.text.startsWith('become uid 0 gid 0'))?.text).toMatch(/setresuid.*\[process\.user\]$/);
    expect(lines.some((l) => l.text.includes(planContext.rootfs))).toBe(false);
  });

  it('keeps every line within its width', () => {
    for (const l of lines) expect(formatSummaryLine(l).length).toBeLessThanOrEqual(120);
  });
});
