// --help, rendered by yargs from the same option declarations the fast parser uses. Loaded only
// when help is asked for, so ordinary commands never pay for yargs.
import yargs from 'yargs';
import type { Argv, Options, PositionalOptions } from 'yargs';
import type { CommandEntry, CommandModule, OptionSpec } from './command.js';
import { GLOBAL_OPTIONS, HELP_OPTION } from './parse-args.js';

function toYargsOption(spec: OptionSpec): Options {
  return {
    type: spec.type, describe: spec.describe,
    ...(spec.short ? { alias: spec.short } : {}),
    ...(spec.default !== undefined ? { default: spec.default } : {}),
    ...(spec.choices ? { choices: [...spec.choices] } : {}),
    ...(spec.multiple ? { array: true } : {}),
  };
}

function usage(mod: CommandModule<any>): string {
  const pos = (mod.positionals ?? []).map((p) => (p.required ? `<${p.name}${p.variadic ? '..' : ''}>` : `[${p.name}${p.variadic ? '..' : ''}]`));
  return [mod.command, ...pos].join(' ');
}

function describeCommand(y: Argv, mod: CommandModule<any>): Argv {
  for (const p of mod.positionals ?? []) {
    const opt: PositionalOptions = { describe: p.describe, type: 'string', ...(p.variadic ? { array: true } : {}) };
    y = y.positional(p.name, opt);
  }
  for (const [name, spec] of Object.entries(mod.options ?? {})) y = y.option(name, toYargsOption(spec));
  for (const sub of mod.subcommands ?? []) y = y.command(usage(sub), sub.describe, (s) => describeCommand(s, sub));
  return y;
}

export async function renderHelp(table: CommandEntry[], path: CommandModule<any>[]): Promise<string> {
  // Subcommands are listed under the full command path (`tsrun image import`).
  let y: Argv = yargs([]).scriptName(['tsrun', ...path.map((m) => m.command)].join(' ')).wrap(Math.min(100, process.stdout.columns || 100)).version(false).help(false);
  if (path.length === 0) {
    for (const [name, spec] of Object.entries(GLOBAL_OPTIONS)) y = y.option(name, toYargsOption(spec));
    y = y.group(Object.keys(GLOBAL_OPTIONS), 'Global options (before the command):');
    for (const e of table) y = y.command(e.name, e.describe);
    y = y.usage('tsrun — an OCI container runtime in TypeScript\n\nUsage: tsrun [global options] <command> [command options]');
    y = y.epilogue('Global options go before the command, command options after it (as in runc).\n`tsrun run` exits 125 when tsrun fails, 126/127 when the program cannot be run/found (see tsrun run --help).');
  } else {
    const mod = path[path.length - 1]!;
    const prefix = path.slice(0, -1).map((m) => m.command).join(' ');
    y = y.usage(`Usage: tsrun [global options] ${prefix ? prefix + ' ' : ''}${usage(mod)} [options]\n\n${mod.describe}`);
    y = describeCommand(y, mod);
    y = y.option('help', toYargsOption(HELP_OPTION.help!));
    // Listed for reference, in a group of their own: they are given before the command.
    const globals = Object.keys(GLOBAL_OPTIONS).filter((n) => n !== 'help');
    for (const name of globals) y = y.option(name, toYargsOption(GLOBAL_OPTIONS[name]!));
    y = y.group(globals, 'Global options (before the command: tsrun [global options] <command> …):');
    if (mod.epilog) y = y.epilogue(mod.epilog);
  }
  return (await y.getHelp()) + '\n';
}
