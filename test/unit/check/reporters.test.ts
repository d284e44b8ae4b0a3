import { describe, expect, it } from 'vitest';
import { buildReport } from '../../../src/check/build-report.js';
import { formatJsonReport } from '../../../src/check/json-report.js';
import { formatTextReport, shouldUseColor, wrap } from '../../../src/check/text-report.js';
import type { CheckReport } from '../../../src/check/report.js';
import { thisHostFacts } from './host-facts-samples.js';

const report = buildReport(thisHostFacts());

describe('formatTextReport', () => {
  const text = formatTextReport(report, { color: false, width: 100 });

  it('groups items under area headings, in order', () => {
    const headings = text.split('\n').filter((l) => /^[a-z]+$/.test(l));
    expect(headings).toEqual(['kernel', 'namespaces', 'cgroups', 'overlay', 'privileges', 'pty', 'seccomp']);
  });

  it('aligns the detail column and indents the fix under it', () => {
    const itemLines = text.split('\n').filter((l) => /^ {2}(ok|warn|missing) /.test(l));
    const columns = new Set(itemLines.map((l) => l.indexOf(l.trim().split(/\s{2,}/)[2] ?? '')));
    expect(columns.size).toBe(1);
    const [column] = columns;
    const fixLine = text.split('\n').find((l) => l.trimStart().startsWith('fix:'));
    expect(fixLine?.indexOf('fix:')).toBe(column);
  });

  it('wraps at the width and ends with the verdict', () => {
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    expect(text).toMatch(/tsrun can run containers on this host: 6 items above cost features/);
  });

  it('has no escape codes without colour, and colours statuses with it', () => {
    expect(text).not.toContain('\x1b[');
    const coloured = formatTextReport(report, { color: true, width: 100 });
    expect(coloured).toContain('\x1b[33mwarn   \x1b[0m');
    expect(coloured).toContain('\x1b[32mok     \x1b[0m');
  });

  it('lists the blockers when containers cannot run', () => {
    const blocked: CheckReport = { ...report, canRunContainers: false, blockers: ['no PID namespaces'] };
    expect(formatTextReport(blocked, { color: false, width: 80 })).toMatch(/tsrun cannot run containers on this host:\n {2}- no PID namespaces\n$/);
  });
});

describe('shouldUseColor', () => {
  it('colours only a terminal, and only when NO_COLOR is unset or empty', () => {
    expect(shouldUseColor(true, {})).toBe(true);
    expect(shouldUseColor(true, { NO_COLOR: '' })).toBe(true);
    expect(shouldUseColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(shouldUseColor(false, {})).toBe(false);
    expect(shouldUseColor(undefined, {})).toBe(false);
  });
});

describe('wrap', () => {
  it('breaks between words and indents continuation lines', () => {
    expect(wrap('aaa bbb ccc ddd', 30, 22)).toBe('aaa bbb ccc ddd');
    expect(wrap('one two three four five six seven', 30, 4)).toBe('one two three four five\n    six seven');
  });
});

describe('formatJsonReport', () => {
  it('is the report itself, as one JSON document', () => {
    const parsed = JSON.parse(formatJsonReport(report)) as CheckReport;
    expect(parsed).toEqual(report);
  });
});
