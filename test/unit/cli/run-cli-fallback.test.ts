// runCli's `fallback`: the startup snapshot's CLI serves the commands of its table and hands help,
// other commands and the commands' fullBundleOptions to the full bundle (src/startup/snapshot-main.ts).
import { describe, expect, it } from 'vitest';
import type { CommandEntry, CommandModule } from '../../../src/cli/command.js';
import { hotTable } from '../../../src/startup/hot-table.js';
import { runCli } from '../../../src/cli/run-cli.js';
import { commandTable } from '../../../src/cli/table.js';

function fixture(): { table: CommandEntry[]; ran: string[][]; handed: string[][] } {
  const ran: string[][] = [];
  const handed: string[][] = [];
  const run: CommandModule<{ target?: string; image?: string }> = {
    command: 'run',
    describe: 'run',
    positionals: [{ name: 'target', describe: 'id' }],
    options: { image: { type: 'string', short: 'i', describe: 'image' } },
    needsFullBundle: (args) => args.image !== undefined,
    handler: async (args) => { ran.push(['run', args.target ?? '']); return 0; },
  };
  return { table: [{ name: 'run', describe: 'run', load: async () => run }], ran, handed };
}

async function cli(argv: string[]): Promise<{ ran: string[][]; handed: string[][] }> {
  const { table, ran, handed } = fixture();
  const exitCode = process.exitCode;
  await runCli(argv, table, { fallback: async (a) => { handed.push(a); } });
  process.exitCode = exitCode;
  return { ran, handed };
}

describe('runCli with a fallback (the startup snapshot)', () => {
  it('serves a command of its table itself', async () => {
    expect(await cli(['run', 'c1'])).toEqual({ ran: [['run', 'c1']], handed: [] });
    expect(await cli(['--root', '/tmp/x', 'run', '--', 'c2'])).toEqual({ ran: [['run', 'c2']], handed: [] });
  });

  it('hands over help, unknown commands and what needsFullBundle says, with argv unchanged', async () => {
    for (const argv of [[], ['--help'], ['run', '--help'], ['run', '-h', 'c'], ['image', 'ls'], ['check'],
      ['run', '--image', 'layout:tag', 'c'], ['run', '-i', 'layout'], ['run', '--image=l', 'c']]) {
      expect(await cli(argv), argv.join(' ')).toEqual({ ran: [], handed: [argv] });
    }
  });

  it('answers --version and usage errors itself', async () => {
    expect(await cli(['--version'])).toEqual({ ran: [], handed: [] });
    expect(await cli(['run', '--no-such-flag'])).toEqual({ ran: [], handed: [] });
  });

  it('the hot table is a subset of the full table, under the same names', () => {
    const all = new Set(commandTable.map((e) => e.name));
    for (const e of hotTable) expect(all.has(e.name), e.name).toBe(true);
  });
});
