// Argument parsing for every command without loading yargs (which alone costs ~50 ms of start-up,
// measured on these machines, against a 15 ms budget for a whole `tsrun run`). Built on
// node:util parseArgs with the command's declared options plus runc's global ones.
import { parseArgs } from 'node:util';
import { TsrunError } from '../errors.js';
import type { CommandModule, GlobalArgs, OptionSpec } from './command.js';

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  root: { type: 'string', default: '/run/tsrun', describe: 'directory for container state' },
  log: { type: 'string', describe: 'also append errors and warnings to this file' },
  'log-format': { type: 'string', default: 'text', choices: ['text', 'json'], describe: 'format of errors, warnings and --trace' },
  debug: { type: 'boolean', default: false, describe: 'print debug output' },
  help: { type: 'boolean', short: 'h', default: false, describe: 'show help' },
};

export class UsageError extends TsrunError {
  override name = 'UsageError';
  constructor(message: string, readonly command?: string) {
    super(`${message} (see tsrun ${command ? `${command} ` : ''}--help)`, {}, 2);
  }
}

const camel = (s: string): string => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function convert(name: string, spec: OptionSpec, raw: unknown, where: string): unknown {
  const one = (v: unknown): unknown => {
    if (spec.type === 'number') {
      const n = Number(v);
      if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} needs a number, got ${JSON.stringify(v)}`, where);
      return n;
    }
    if (spec.choices && typeof v === 'string' && !spec.choices.includes(v)) {
      throw new UsageError(`--${name} must be one of ${spec.choices.join(', ')}, got ${JSON.stringify(v)}`, where);
    }
    return v;
  };
  return Array.isArray(raw) ? raw.map(one) : one(raw);
}

/** Index just after the n-th positional of `tokens` (option values are not positionals). */
function indexAfterPositionals(tokens: string[], all: Record<string, OptionSpec>, n: number): number {
  let seen = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '--') return i;
    if (t.startsWith('--')) {
      const spec = all[t.slice(2)];
      if (spec && spec.type !== 'boolean' && !t.includes('=')) i++;
      continue;
    }
    if (t.startsWith('-') && t.length > 1) {
      const spec = Object.values(all).find((s) => s.short === t[1]);
      if (spec && spec.type !== 'boolean' && t.length === 2) i++;
      continue;
    }
    if (++seen === n) return i + 1;
  }
  return tokens.length;
}

/**
 * Parses `tokens` (argv after the command words) for `mod`. Throws UsageError for unknown options,
 * missing values and missing positionals.
 */
export function parseCommandArgs<A>(mod: CommandModule<A>, tokens: string[], where: string): A & GlobalArgs & { _: string[]; help: boolean } {
  const all: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...mod.options };
  const options: NonNullable<Parameters<typeof parseArgs>[0]>['options'] = {};
  for (const [name, spec] of Object.entries(all)) {
    options[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  let tail: string[] = [];
  if (mod.optionsEndAfterPositionals !== undefined) {
    const cut = indexAfterPositionals(tokens, all, mod.optionsEndAfterPositionals);
    tail = tokens.slice(cut);
    tokens = tokens.slice(0, cut);
    if (tail[0] === '--') tail = tail.slice(1);
  } else if (tokens.includes('--')) {
    // Everything after `--` belongs to the variadic positional (`run --image I ID -- cmd -c …`).
    tail = tokens.slice(tokens.indexOf('--') + 1);
    tokens = tokens.slice(0, tokens.indexOf('--'));
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: tokens, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''), where);
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(all)) {
    const raw = parsed.values[name];
    const value = raw === undefined ? spec.default : convert(name, spec, raw, where);
    if (value !== undefined) out[camel(name)] = value;
  }
  // After `--`, words go to the variadic positional when there is one (`run --image I ID -- cmd`);
  // otherwise `--` only ends the options and the words fill the positionals (`create -- -x`).
  const dashdash = mod.optionsEndAfterPositionals === undefined && (mod.positionals ?? []).some((p) => p.variadic);
  const rest = dashdash ? [...parsed.positionals] : [...parsed.positionals, ...tail];
  for (const p of mod.positionals ?? []) {
    if (p.variadic) { out[camel(p.name)] = [...rest.splice(0), ...(dashdash ? tail.splice(0) : [])]; continue; }
    const v = rest.shift();
    if (v === undefined && p.required && !out.help) throw new UsageError(`missing ${p.name.toUpperCase()}`, where);
    if (v !== undefined) out[camel(p.name)] = v;
  }
  if ((rest.length > 0 || tail.length > 0 && dashdash) && !out.help) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0] ?? tail[0])}`, where);
  out._ = rest;
  // The declarations above are the only source of these keys and their types.
  return out as A & GlobalArgs & { _: string[]; help: boolean };
}
