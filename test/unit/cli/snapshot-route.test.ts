import { describe, expect, it } from 'vitest';
import { hotTable } from '../../../src/cli/hot-table.js';
import { servedBySnapshot } from '../../../src/cli/snapshot-route.js';
import { commandTable } from '../../../src/cli/table.js';

const served = (...argv: string[]): Promise<boolean> => servedBySnapshot(argv, hotTable);

describe('which invocations the startup snapshot serves', () => {
  it('serves the lifecycle commands', async () => {
    for (const argv of [['run', '--bundle', 'b', 'id'], ['create', '--bundle', 'b', 'id'], ['start', 'id'], ['state', 'id'],
      ['kill', 'id', 'KILL'], ['delete', '-f', 'id'], ['exec', 'id', '--', 'sh', '-c', 'grep -i x --image y'],
      ['--root', '/tmp/r', 'list'], ['ps', 'id'], ['pause', 'id'], ['resume', 'id'], ['features'], ['spec']]) {
      expect(await served(...argv), argv.join(' ')).toBe(true);
    }
  });

  it('hands help, the image store and the teaching commands to the full bundle', async () => {
    for (const argv of [[], ['--help'], ['run', '--help'], ['delete', '-h', 'x'], ['image', 'ls'], ['check'], ['inspect', 'id'],
      ['explain', 'b'], ['events', 'id'], ['run', '--image', 'layout:tag', 'id'], ['run', '-i', 'layout', 'id'], ['run', '--image=l']]) {
      expect(await served(...argv), argv.join(' ')).toBe(false);
    }
  });

  it('answers --version and usage errors itself (same text as the full bundle)', async () => {
    expect(await served('--version')).toBe(true);
    expect(await served('run', '--no-such-flag')).toBe(true);
  });

  it('keeps the hot commands in the full table too, with the same names', () => {
    const all = new Set(commandTable.map((e) => e.name));
    for (const e of hotTable) expect(all.has(e.name), e.name).toBe(true);
  });
});
