import { describe, expect, it } from 'vitest';
import type { CommandModule } from '../../../src/cli/command.js';
import { UsageError, parseCommandArgs } from '../../../src/cli/parse-args.js';
import { findCommandIndex } from '../../../src/cli/run-cli.js';
import { resolveBundleAndId } from '../../../src/cli/bundle-arg.js';

const mod: CommandModule<{ id: string; bundle?: string; detach: boolean; count?: number; env?: string[] }> = {
  command: 'demo', describe: 'demo',
  positionals: [{ name: 'id', describe: 'id', required: true }],
  options: {
    bundle: { type: 'string', short: 'b', describe: 'b' },
    detach: { type: 'boolean', short: 'd', default: false, describe: 'd' },
    count: { type: 'number', describe: 'n' },
    env: { type: 'string', multiple: true, describe: 'e' },
  },
  handler: async () => 0,
};

describe('parseCommandArgs', () => {
  it('parses options, short flags, numbers, repeated options and the positional', () => {
    const a = parseCommandArgs(mod, ['-b', '/x', '-d', '--count', '3', '--env', 'A=1', '--env', 'B=2', 'c1'], 'demo');
    expect(a).toMatchObject({ id: 'c1', bundle: '/x', detach: true, count: 3, env: ['A=1', 'B=2'], root: '/run/tsrun', logFormat: 'text' });
  });
  it('accepts runc global options anywhere, camel-casing kebab names', () => {
    expect(parseCommandArgs(mod, ['--root', '/r', '--log-format', 'json', 'c1'], 'demo')).toMatchObject({ root: '/r', logFormat: 'json' });
  });
  it('refuses unknown options, bad numbers, bad choices, missing and extra positionals with exit code 2', () => {
    for (const argv of [['--nope', 'c1'], ['--count', 'x', 'c1'], ['--log-format', 'xml', 'c1'], [], ['c1', 'c2']]) {
      let err: unknown;
      try { parseCommandArgs(mod, argv, 'demo'); } catch (e) { err = e; }
      expect(err, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(2);
      expect((err as UsageError).message).toMatch(/see tsrun demo --help/);
    }
  });
});

describe('findCommandIndex', () => {
  it('skips global options and their values', () => {
    expect(findCommandIndex(['--root', '/r', '--debug', 'run', 'x'])).toBe(3);
    expect(findCommandIndex(['--log-format=json', 'state', 'x'])).toBe(1);
    expect(findCommandIndex(['--debug'])).toBe(-1);
  });
});

describe('resolveBundleAndId', () => {
  it('treats the positional as the id when --bundle is given, and as the bundle when it is a bundle dir', () => {
    expect(resolveBundleAndId('/b', 'c1')).toEqual({ bundle: '/b', id: 'c1' });
    expect(resolveBundleAndId(undefined, 'not-a-dir-xyz')).toEqual({ bundle: '.', id: 'not-a-dir-xyz' });
  });
});
