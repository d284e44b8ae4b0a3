// The lab harness itself (test/helpers/labs.ts): how a lab's markdown is parsed and how output is matched
// against an expected block. No root needed.
import { describe, expect, it } from 'vitest';
import { matchOutput, parseLab } from '../../helpers/labs.js';

const fence = '```';

describe('lab harness: parseLab', () => {
  const md = [
    '# Lab 99: a title',
    '<!-- lab lane=vm needs=memory,pids -->',
    `${fence}sh lab`, 'echo one', fence,
    'some prose between',
    `${fence}text expected`, 'one', fence,
    `${fence}sh lab exit=137 timeout=5`, 'exit 137', fence,
    `${fence}sh`, 'not run', fence,
    `${fence}text expected`, 'ignored: follows an illustration', fence, // an error: no lab block to belong to
    `${fence}sh cleanup`, 'true', fence,
  ].join('\n');

  it('reads title, lane, needs, blocks with options, expected blocks and cleanup', () => {
    const lab = parseLab(md.replace(`${fence}text expected\nignored: follows an illustration\n${fence}\n`, ''), '/x/99-demo.md');
    expect(lab).toMatchObject({ name: '99-demo', title: 'Lab 99: a title', lane: 'vm', needs: ['memory', 'pids'] });
    expect(lab.blocks.map((b) => [b.code, b.exit, b.timeout, b.expected?.text])).toEqual([
      ['echo one', 0, 60, 'one'],
      ['exit 137', 137, 5, undefined],
    ]);
    expect(lab.cleanup.map((b) => b.code)).toEqual(['true']);
  });

  it('rejects an expected block with no lab block before it, unknown options and unclosed fences', () => {
    expect(() => parseLab(md, '/x/99.md')).toThrow(/needs a `sh lab` block before it/);
    expect(() => parseLab(`${fence}sh lab nope=1\ntrue\n${fence}`, '/x/99.md')).toThrow(/unknown block option nope=1/);
    expect(() => parseLab(`${fence}sh lab\ntrue\n`, '/x/99.md')).toThrow(/unclosed code fence/);
  });

  it('defaults to the host lane', () => {
    expect(parseLab(`# t\n${fence}sh lab\ntrue\n${fence}`, '/x/01-a.md')).toMatchObject({ lane: 'host', needs: [] });
  });
});

describe('lab harness: matchOutput', () => {
  it('matches literal lines, ignoring trailing blanks and trailing empty lines', () => {
    expect(matchOutput('a  \nb\n\n', 'a\nb')).toBeNull();
  });
  it('matches /regex/ lines against the whole line', () => {
    expect(matchOutput('pid 42\n', '/pid \\d+/')).toBeNull();
    expect(matchOutput('pid 42 x\n', '/pid \\d+/')).toMatch(/does not match/);
  });
  it('lets ... stand for any number of lines, including none', () => {
    expect(matchOutput('a\nx\ny\nb\n', 'a\n...\nb')).toBeNull();
    expect(matchOutput('a\nb\n', 'a\n...\nb')).toBeNull();
    expect(matchOutput('a\nb\nc\n', '...\nc')).toBeNull();
    expect(matchOutput('a\nb\n', 'a\n...')).toBeNull();
  });
  it('says which line failed, and reports missing and extra lines', () => {
    expect(matchOutput('a\nB\n', 'a\nb')).toMatch(/expected line 2 "b" does not match output line 2 "B"/);
    expect(matchOutput('a\n', 'a\nb')).toMatch(/output ended; still expected line 2: "b"/);
    expect(matchOutput('a\nb\n', 'a')).toMatch(/unexpected extra output from line 2: "b"/);
  });
});
