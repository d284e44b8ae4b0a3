// linux.seccomp (OCI config-linux.md#seccomp) → rules per syscall name, with every action turned
// into the kernel's return value. What tsrun cannot do (SCMP_ACT_NOTIFY, a listener, unknown flags,
// operators, actions) is refused here with a ConfigError naming the field.
import { constants } from 'node:os';
import { ConfigError } from '../errors.js';
import type { Seccomp } from '../oci/types.js';
import { ENOSYS, EPERM, FILTER_FLAGS, RET } from './constants.js';
import { ARCHES, OTHER_ARCHES, isUnknownName, nativeArch, type Arch } from './syscalls.js';

export const SECCOMP_ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG'] as const;
export const SECCOMP_OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'] as const;
export type Operator = typeof SECCOMP_OPERATORS[number];

/** What the filter returns, and how to say it (`SCMP_ACT_ERRNO(EPERM)`). */
export interface Action { ret: number; text: string }

export interface Condition {
  index: number;
  op: Operator;
  /** The datum; for MASKED_EQ the mask is `mask`. 64-bit, compared as two 32-bit halves. */
  value: bigint;
  mask: bigint;
}

export interface Rule { action: Action; conditions: Condition[]; field: string }

export interface SyscallRules {
  /** Rules with argument conditions, tried in config order; the first whose conditions all hold wins. */
  conditional: Rule[];
  /** An unconditional rule: then `conditional` is empty. */
  always?: Rule;
}

export interface Profile {
  defaultAction: Action;
  /** For another ABI than the listed ones (and x32 numbers when x32 is not listed). */
  foreignAction: Action;
  arches: Arch[];
  /** seccomp(2) flags. */
  flags: number;
  syscalls: Map<string, SyscallRules>;
  /** Names no known architecture has: skipped, as libseccomp does. */
  unknownNames: string[];
}

const errnoName = (n: number): string => Object.entries(constants.errno).find(([, v]) => v === n)?.[0] ?? String(n);

function action(name: string, errnoRet: number | undefined, field: string, errnoField: string): Action {
  if (errnoRet !== undefined && name !== 'SCMP_ACT_ERRNO' && name !== 'SCMP_ACT_TRACE') {
    throw new ConfigError(errnoField, `is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not ${name}`);
  }
  const data = errnoRet ?? EPERM;
  if (data > 0xffff) throw new ConfigError(errnoField, `must fit in 16 bits (the filter's return data), got ${data}`);
  switch (name) {
    case 'SCMP_ACT_KILL': case 'SCMP_ACT_KILL_THREAD': return { ret: RET.KILL_THREAD, text: name };
    case 'SCMP_ACT_KILL_PROCESS': return { ret: RET.KILL_PROCESS, text: name };
    case 'SCMP_ACT_TRAP': return { ret: RET.TRAP, text: name };
    case 'SCMP_ACT_ERRNO': return { ret: RET.ERRNO | data, text: `${name}(${errnoName(data)})` };
    case 'SCMP_ACT_TRACE': return { ret: RET.TRACE | data, text: `${name}(${data})` };
    case 'SCMP_ACT_ALLOW': return { ret: RET.ALLOW, text: name };
    case 'SCMP_ACT_LOG': return { ret: RET.LOG, text: name };
    case 'SCMP_ACT_NOTIFY': throw new ConfigError(field, 'SCMP_ACT_NOTIFY is not supported by tsrun (no seccomp listener)');
    default: throw new ConfigError(field, `unknown action ${JSON.stringify(name)}; tsrun supports ${SECCOMP_ACTIONS.join(', ')}`);
  }
}

function datum(v: number | undefined, field: string): bigint {
  if (v === undefined) return 0n;
  // JSON numbers are doubles: above 2^53 the value in the file is not the value read.
  if (!Number.isSafeInteger(v)) throw new ConfigError(field, `${v} is above 2^53 and cannot be read exactly from JSON`);
  return BigInt(v);
}

function arches(list: string[] | undefined, field: string): Arch[] {
  const native = nativeArch();
  const out: Arch[] = native ? [native] : [];
  (list ?? []).forEach((name, i) => {
    const arch = ARCHES[name];
    if (arch) { if (!out.includes(arch)) out.push(arch); return; }
    if (!OTHER_ARCHES.includes(name)) throw new ConfigError(`${field}[${i}]`, `unknown architecture ${JSON.stringify(name)}`);
    // Listed but without a table: its syscalls get the foreign-ABI action (a compat ABI this host may not even have).
  });
  if (out.length === 0) throw new ConfigError(field, `tsrun has no seccomp support for this machine (${process.arch})`);
  return out;
}

function flags(list: string[] | undefined): number {
  return (list ?? []).reduce((acc, name, i) => {
    const bit = FILTER_FLAGS[name];
    if (bit === undefined) throw new ConfigError(`linux.seccomp.flags[${i}]`, `${JSON.stringify(name)} is not supported by tsrun (it passes ${Object.keys(FILTER_FLAGS).join(', ')})`);
    return acc | bit;
  }, 0);
}

function conditions(args: NonNullable<Seccomp['syscalls']>[number]['args'], field: string): Condition[] {
  return (args ?? []).map((a, i) => {
    const f = `${field}.args[${i}]`;
    if (a.index > 5) throw new ConfigError(`${f}.index`, `must be 0..5 (a syscall has six arguments), got ${a.index}`);
    if (!(SECCOMP_OPERATORS as readonly string[]).includes(a.op)) throw new ConfigError(`${f}.op`, `unknown operator ${JSON.stringify(a.op)}; tsrun supports ${SECCOMP_OPERATORS.join(', ')}`);
    const op = a.op as Operator;
    const value = datum(a.value, `${f}.value`);
    // MASKED_EQ: (arg & value) == valueTwo, as runc and libseccomp read it.
    return op === 'SCMP_CMP_MASKED_EQ'
      ? { index: a.index, op, mask: value, value: datum(a.valueTwo, `${f}.valueTwo`) }
      : { index: a.index, op, mask: 0xffff_ffff_ffff_ffffn, value };
  });
}

export function readProfile(sc: Seccomp): Profile {
  const base = 'linux.seccomp';
  if (sc.listenerPath !== undefined) throw new ConfigError(`${base}.listenerPath`, 'is not supported by tsrun (no SCMP_ACT_NOTIFY listener)');
  if (sc.listenerMetadata !== undefined) throw new ConfigError(`${base}.listenerMetadata`, 'is not supported by tsrun (no SCMP_ACT_NOTIFY listener)');
  const defaultAction = action(sc.defaultAction, sc.defaultErrnoRet, `${base}.defaultAction`, `${base}.defaultErrnoRet`);
  // Another ABI must not become a way around the rules: with a permissive default it gets ENOSYS.
  const permissive = defaultAction.ret === RET.ALLOW || defaultAction.ret === RET.LOG || (defaultAction.ret & 0xffff0000) === RET.TRACE;
  const foreignAction = permissive ? { ret: RET.ERRNO | ENOSYS, text: 'SCMP_ACT_ERRNO(ENOSYS)' } : defaultAction;
  const syscalls = new Map<string, SyscallRules>();
  const unknown = new Set<string>();
  (sc.syscalls ?? []).forEach((entry, i) => {
    const field = `${base}.syscalls[${i}]`;
    const act = action(entry.action, entry.errnoRet, `${field}.action`, `${field}.errnoRet`);
    const conds = conditions(entry.args, field);
    // An unconditional rule that repeats the default changes nothing (libseccomp refuses it; runc skips it).
    if (conds.length === 0 && act.ret === defaultAction.ret) return;
    for (const name of entry.names) {
      if (isUnknownName(name)) { unknown.add(name); continue; }
      const rules = syscalls.get(name) ?? { conditional: [] };
      const rule = { action: act, conditions: conds, field };
      // libseccomp's rules, which runc and crun users rely on: the first unconditional rule of a
      // syscall decides it (later ones are ignored) and replaces any rules with conditions.
      if (rules.always) continue;
      if (conds.length > 0) rules.conditional.push(rule);
      else { rules.always = rule; rules.conditional = []; }
      syscalls.set(name, rules);
    }
  });
  return {
    defaultAction, foreignAction, arches: arches(sc.architectures, `${base}.architectures`), flags: flags(sc.flags),
    syscalls, unknownNames: [...unknown],
  };
}
