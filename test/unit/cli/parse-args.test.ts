import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandModule } from '../../../src/cli/command.js';
import { UsageError, findCommandIndex, parseCommandArgs, parseGlobalArgs } from '../../../src/cli/parse-args.js';
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
  it('passes the global options (parsed before the command) through, camel-casing kebab names', () => {
    const { globals } = parseGlobalArgs(['--root', '/r', '--log-format', 'json', 'demo']);
    expect(parseCommandArgs(mod, ['c1'], 'demo', globals)).toMatchObject({ root: '/r', logFormat: 'json' });
  });
  it('refuses a global option after the command, saying where it goes (runc\'s rule: globals only before the command)', () => {
    expect(() => parseCommandArgs(mod, ['--root', '/r', 'c1'], 'demo')).toThrow(/--root is a global option, given before the command only \(tsrun --root … demo …\); demo has no option --root/);
    expect(() => parseCommandArgs(mod, ['-v', 'c1'], 'demo')).toThrow(/-v is a global option \(--version\), given before the command only/);
    expect(() => parseCommandArgs(mod, ['--nope', 'c1'], 'demo')).toThrow(/unknown option --nope for tsrun demo \(see tsrun demo --help\)/);
  });
  it('refuses unknown options, bad numbers, bad choices, missing and extra positionals with exit code 2', () => {
    for (const argv of [['--nope', 'c1'], ['--count', 'x', 'c1'], ['--root', '/r', 'c1'], [], ['c1', 'c2']]) {
      let err: unknown;
      try { parseCommandArgs(mod, argv, 'demo'); } catch (e) { err = e; }
      expect(err, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(2);
      expect((err as UsageError).message).toMatch(/see tsrun demo --help/);
    }
  });
});

describe('findCommandIndex and parseGlobalArgs', () => {
  it('skips global options and their values', () => {
    expect(findCommandIndex(['--root', '/r', '--debug', 'run', 'x'])).toBe(3);
    expect(findCommandIndex(['--log-format=json', 'state', 'x'])).toBe(1);
    expect(findCommandIndex(['--debug'])).toBe(-1);
  });
  it('parses the globals before the command only, with their defaults', () => {
    expect(parseGlobalArgs(['--log-format=json', 'state', '--root', 'x'])).toEqual({
      commandIndex: 1, globals: { root: '/run/tsrun', logFormat: 'json', debug: false, systemdCgroup: false, help: false, version: false },
    });
    expect(parseGlobalArgs(['--systemd-cgroup', 'create', 'c']).globals.systemdCgroup).toBe(true);
  });
  it('refuses a bad global value or an unknown option before the command with exit code 2, naming it', () => {
    expect(() => parseGlobalArgs(['--log-format', 'xml', 'run'])).toThrow(/--log-format must be one of text, json, got "xml" \(see tsrun --help\)/);
    expect(() => parseGlobalArgs(['--no-such-global', 'create', 'c'])).toThrow(/unknown option --no-such-global before the command/);
    expect(() => parseGlobalArgs(['--root', '', 'run'])).toThrow(/--root needs a path/);
  });
});

describe('resolveBundleAndId', () => {
  it('treats the positional as the id when --bundle is given, and as the bundle when it is a bundle dir', () => {
    expect(resolveBundleAndId('/b', 'c1')).toEqual({ bundle: '/b', id: 'c1' });
    expect(resolveBundleAndId(undefined, 'not-a-dir-xyz')).toEqual({ bundle: process.cwd(), id: 'not-a-dir-xyz' });
    expect(resolveBundleAndId('rel', undefined)).toEqual({ bundle: join(process.cwd(), 'rel') });
  });
});

describe('defaults', () => {
  it('keeps a number default a number and makes a path default absolute', () => {
    const m: CommandModule<{ interval: number; dir: string }> = {
      command: 'demo', describe: 'demo',
      options: { interval: { type: 'number', default: 5, describe: 'n' }, dir: { type: 'string', path: true, default: '.', describe: 'd' } },
      handler: async () => 0,
    };
    expect(parseCommandArgs(m, [], 'demo')).toMatchObject({ interval: 5, dir: process.cwd() });
  });
});
