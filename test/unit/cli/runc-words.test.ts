// Words runc's Go flag parsing takes that node:util's does not: `-t=false`, and durations.
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../../../src/cli/duration.js';
import { parseCommandArgs, parseGlobalArgs } from '../../../src/cli/parse-args.js';
import exec from '../../../src/cli/commands/exec.js';

describe('boolean options with =true / =false', () => {
  it('exec -t=false is no tty, --tty=true a tty; the command\'s own words stay as they are', () => {
    expect(parseCommandArgs(exec, ['-t=false', 'id', 'echo', '-t=false'], 'exec').tty).toBe(false);
    const a = parseCommandArgs(exec, ['--tty=true', '-d=false', 'id', 'echo', '--x=true'], 'exec');
    expect(a.tty).toBe(true);
    expect(a.detach).toBe(false);
    expect(a.command).toEqual(['echo', '--x=true']);
  });

  it('global --debug=false, --rootless and --criu (runc\'s) parse', () => {
    const g = parseGlobalArgs(['--debug=false', '--rootless', 'true', '--criu', '/bin/criu', 'state', 'x']).globals as unknown as Record<string, unknown>;
    expect(g.debug).toBe(false);
    expect(g.rootless).toBe('true');
    expect(g.criu).toBe('/bin/criu');
  });
});

describe('parseDurationMs', () => {
  it.each([['1s', 1000], ['500ms', 500], ['1m30s', 90_000], ['1.5h', 5_400_000], ['2', 2000], ['250us', 0.25]])('%s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });
  it('refuses what Go refuses', () => {
    for (const bad of ['', 's', '1 s', '1d', '-1s']) expect(parseDurationMs(bad), bad).toBeUndefined();
  });
});
