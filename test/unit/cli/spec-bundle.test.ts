// `tsrun spec --bundle DIR` makes DIR (and its parents) when missing (issue 13: it failed unless DIR
// existed, as `runc spec --bundle` does); --help says so.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/run-cli.js';
import { commandTable } from '../../../src/cli/table.js';
import specCommand from '../../../src/cli/commands/spec.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tsrun-spec-bundle-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); process.exitCode = undefined; });

async function statusOf(argv: string[]): Promise<number> {
  await runCli(argv, commandTable);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return code;
}

describe('tsrun spec --bundle DIR', () => {
  it('creates a missing DIR and its parents (mkdir -p), then writes config.json', async () => {
    const bundle = join(dir, 'a', 'b', 'bundle');
    expect(await statusOf(['spec', '--bundle', bundle])).toBe(0);
    expect(JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'))).toEqual(defaultSpec());
  });

  it('a file in the way is an error naming it, and nothing is written', async () => {
    writeFileSync(join(dir, 'file'), 'x');
    expect(await statusOf(['spec', '--bundle', join(dir, 'file', 'bundle')])).toBe(1);
    expect(existsSync(join(dir, 'file', 'bundle'))).toBe(false);
  });

  it('says so in --help', () => {
    expect(specCommand.options?.bundle?.describe).toMatch(/created if missing/);
  });
});
