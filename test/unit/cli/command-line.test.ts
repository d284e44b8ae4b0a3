// The command line as runc has it: `tsrun [global options] command [command options]`. Global
// options only before the command, a command's options only after it, anything else an error that
// names it (issue 13: `run --image I -v /tmp:/host -- x` printed the version and exited 0); every
// path option made absolute once, here (a relative --root broke the overlay mount of `run --image`);
// and the exit statuses of `run` (podman's 125/126/127) and `exec` (runc's 255) on failure.
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandEntry, CommandModule } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/run-cli.js';
import { commandTable } from '../../../src/cli/table.js';
import { TsrunError } from '../../../src/errors.js';

interface DemoArgs { id: string; bundle: string; pidFile?: string; consoleSocket?: string; process?: string; detach: boolean }

function demoTable(): { table: CommandEntry[]; seen: Record<string, unknown>[] } {
  const seen: Record<string, unknown>[] = [];
  const demo: CommandModule<DemoArgs> = {
    command: 'demo', describe: 'demo',
    positionals: [{ name: 'id', describe: 'id', required: true }],
    options: {
      bundle: { type: 'string', short: 'b', path: true, default: '.', describe: 'b' },
      'pid-file': { type: 'string', path: true, describe: 'p' },
      'console-socket': { type: 'string', path: true, describe: 'c' },
      process: { type: 'string', short: 'p', path: true, describe: 'p' },
      detach: { type: 'boolean', short: 'd', default: false, describe: 'd' },
    },
    handler: async (args) => { seen.push({ ...args }); return 0; },
  };
  return { table: [{ name: 'demo', describe: 'demo', load: async () => demo }], seen };
}

/** runCli's exit status for argv (undefined → 0), restoring process.exitCode. */
async function statusOf(argv: string[], table: CommandEntry[]): Promise<number> {
  await runCli(argv, table);
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return code;
}

afterEach(() => { process.exitCode = undefined; });

describe('global options go before the command, command options after it', () => {
  it('takes --root, --log, --log-format, --debug before the command', async () => {
    const { table, seen } = demoTable();
    expect(await statusOf(['--root', '/r', '--log', '/l.json', '--log-format', 'json', '--debug', 'demo', 'c1'], table)).toBe(0);
    expect(seen).toEqual([expect.objectContaining({ id: 'c1', root: '/r', log: '/l.json', logFormat: 'json', debug: true })]);
  });

  it('refuses a global option after the command, naming it, and runs nothing', async () => {
    for (const argv of [['demo', '--root', '/r', 'c1'], ['demo', 'c1', '--log-format', 'json'], ['demo', '--debug', 'c1'], ['demo', '-v', 'c1'], ['demo', 'c1', '--version']]) {
      const { table, seen } = demoTable();
      expect(await statusOf(argv, table), argv.join(' ')).toBe(2);
      expect(seen, argv.join(' ')).toEqual([]);
    }
  });

  it('`run --image IMG -v /tmp:/host -- x` is a usage error (125 for run), not the version', async () => {
    expect(await statusOf(['run', '--image', 'img', '-v', '/tmp:/host', '--', 'x'], commandTable)).toBe(125);
  });

  it('refuses unknown options before the command', async () => {
    for (const argv of [['--no-such-global', 'demo', 'c1'], ['--nope', 'demo', 'c1'], ['--bundle', '/b', 'demo', 'c1']]) {
      const { table, seen } = demoTable();
      expect(await statusOf(argv, table), argv.join(' ')).toBe(2);
      expect(seen).toEqual([]);
    }
  });

  it('--version and -v before the command print the version and run nothing', async () => {
    for (const argv of [['--version'], ['-v'], ['-v', 'demo', 'c1']]) {
      const { table, seen } = demoTable();
      expect(await statusOf(argv, table)).toBe(0);
      expect(seen).toEqual([]);
    }
  });
});

describe('path options are made absolute once, when parsed', () => {
  it('resolves --root, --log and the command\'s path options (and a path default) against the working directory', async () => {
    const { table, seen } = demoTable();
    expect(await statusOf(['--root', 'state', '--log', 'log.json', 'demo', '--pid-file', 'p.pid', '--console-socket', 'c.sock', '-p', 'proc.json', 'c1'], table)).toBe(0);
    expect(seen[0]).toMatchObject({
      root: resolve('state'), log: resolve('log.json'), pidFile: resolve('p.pid'), consoleSocket: resolve('c.sock'), process: resolve('proc.json'), bundle: resolve('.'),
    });
  });

  it('every path option of the real commands is declared as a path', async () => {
    const pathLike = /^(root|log|bundle|store|pid-file|console-socket|process)$/;
    for (const entry of commandTable) {
      const mod = await entry.load();
      for (const m of [mod, ...(mod.subcommands ?? [])]) {
        for (const [name, spec] of Object.entries(m.options ?? {})) {
          if (pathLike.test(name)) expect(spec.path, `${entry.name} ${m.command} --${name}`).toBe(true);
        }
      }
    }
  });
});

describe('exit statuses of failures', () => {
  it('run: 125 for its own failures (usage errors included), as podman', async () => {
    expect(await statusOf(['run', '--no-such-flag'], commandTable)).toBe(125);
    expect(await statusOf(['--root', '/nonexistent-root-xyz', 'run', '--bundle', '/nonexistent-bundle-xyz', 'c'], commandTable)).toBe(125);
  });

  it('run: 127 when process.args is not found, 126 when it cannot be executed', async () => {
    const { runFailureStatus } = await import('../../../src/cli/exit-status.js');
    const step = (errno: string): TsrunError => new TsrunError('x', { field: 'process.args', errno, step: 64 });
    expect(runFailureStatus(step('ENOENT'))).toBe(127);
    expect(runFailureStatus(step('EACCES'))).toBe(126);
    expect(runFailureStatus(step('ENOEXEC'))).toBe(126);
    expect(runFailureStatus(new TsrunError('mount', { field: 'mounts[7]', errno: 'ENOENT' }))).toBe(125);
    expect(runFailureStatus(new TsrunError('process.args: must not be empty', { field: 'process.args' }))).toBe(125);
    expect(runFailureStatus(new Error('bug'))).toBe(125);
  });

  it('exec: 255 when tsrun fails (runc\'s status), 2 for a usage error', async () => {
    expect(await statusOf(['--root', '/nonexistent-root-xyz', 'exec', 'no-such-container', 'true'], commandTable)).toBe(255);
    expect(await statusOf(['exec', '--user', 'nobody', 'c', 'true'], commandTable)).toBe(2);
  });

  it('the lifecycle commands keep runc\'s 1', async () => {
    for (const cmd of ['state', 'start', 'kill', 'delete']) {
      expect(await statusOf(['--root', '/nonexistent-root-xyz', cmd, 'no-such-container'], commandTable), cmd).toBe(1);
    }
  });
});
