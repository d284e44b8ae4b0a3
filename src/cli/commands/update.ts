// tsrun update [-r FILE|-] [--memory …] ID — runc's update: new limits for a live container.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TsrunError } from '../../errors.js';
import type { Resources } from '../../oci/types.js';
import { validateResources } from '../../oci/validate.js';
import type { CommandModule, OptionSpec } from '../command.js';
import { cliWarner } from '../log.js';
import { UsageError } from '../parse-args.js';

/** runc's flags, each as it names them; values are parsed here so that a bad one names its flag. */
export interface UpdateFlags {
  blkioWeight?: string; cpuPeriod?: string; cpuQuota?: string; cpuBurst?: string; cpuShare?: string; cpuShares?: string;
  cpuRtPeriod?: string; cpuRtRuntime?: string; cpusetCpus?: string; cpusetMems?: string; cpuIdle?: string;
  memory?: string; memoryReservation?: string; memorySwap?: string; pidsLimit?: string;
  kernelMemory?: string; kernelMemoryTcp?: string; l3CacheSchema?: string; memBwSchema?: string;
}

interface UpdateArgs extends UpdateFlags { id: string; resources?: string }

const text = (describe: string): OptionSpec => ({ type: 'string', describe });

const OPTIONS: Record<string, OptionSpec> = {
  resources: { type: 'string', short: 'r', describe: 'a JSON file with the new linux.resources, or - for the standard input; the other options are then ignored (as runc)' },
  'blkio-weight': text('block IO weight, 10 to 1000'),
  'cpu-period': text('CPU CFS period in microseconds (cpu.max)'),
  'cpu-quota': text('CPU CFS quota in microseconds per period, -1 for none (cpu.max)'),
  'cpu-burst': text('CPU CFS burst in microseconds (cpu.max.burst)'),
  'cpu-share': text('CPU shares, turned into cpu.weight as at create'),
  'cpu-shares': text('the same as --cpu-share (docker\'s spelling)'),
  'cpu-rt-period': text('realtime period (refused: cgroup v2 has no realtime groups)'),
  'cpu-rt-runtime': text('realtime runtime (refused: cgroup v2 has no realtime groups)'),
  'cpuset-cpus': text('CPUs to run on, e.g. 0-2,4'),
  'cpuset-mems': text('memory nodes to use'),
  'cpu-idle': text('1: SCHED_IDLE for the cgroup, 0: normal'),
  memory: text('memory limit in bytes, or with a unit (512m, 1g), -1 for none'),
  'memory-reservation': text('memory soft limit (memory.low), as --memory'),
  'memory-swap': text('memory plus swap, as --memory; -1 for unlimited swap'),
  'pids-limit': text('maximum number of tasks, -1 for none (0: unchanged)'),
  'kernel-memory': text('ignored with a warning (obsolete, as runc)'),
  'kernel-memory-tcp': text('ignored with a warning (obsolete, as runc)'),
  'l3-cache-schema': text('Intel RDT L3 cache schema (refused: tsrun has no Intel RDT support)'),
  'mem-bw-schema': text('Intel RDT memory bandwidth schema (refused: tsrun has no Intel RDT support)'),
};

const UNIT: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** A size as runc's flags take it: bytes, or a number with a binary unit (k, m, g, t, p; kb, KiB …). */
export function parseByteSize(value: string, flag: string): number {
  if (value === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(value);
  if (!m) throw new UsageError(`invalid value for --${flag}: ${JSON.stringify(value)} (bytes, or a number with k, m, g, t or p)`, 'update');
  return Math.trunc(Number(m[1]) * UNIT[m[2]!.toLowerCase()]!);
}

function parseInteger(value: string, flag: string, min: number): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`invalid value for --${flag}: ${JSON.stringify(value)} (an integer${min === 0 ? ' ≥ 0' : ''})`, 'update');
  }
  return Number(value);
}

/** The resources runc's update flags ask for; only the flags given appear. */
export function resourcesFromFlags(f: UpdateFlags, warn: (m: string) => void): Resources {
  if (f.l3CacheSchema || f.memBwSchema) throw new TsrunError(`--${f.l3CacheSchema ? 'l3-cache-schema' : 'mem-bw-schema'}: tsrun has no Intel RDT (resctrl) support, so the schema cannot be applied`);
  for (const [flag, v] of [['kernel-memory', f.kernelMemory], ['kernel-memory-tcp', f.kernelMemoryTcp]] as const) {
    if (v) warn(`setting --${flag} is ignored (obsolete, as in runc)`);
  }
  const r: Resources = {};
  const memory = (r.memory ??= {});
  const cpu = (r.cpu ??= {});
  if (f.memory !== undefined) memory.limit = parseByteSize(f.memory, 'memory');
  if (f.memoryReservation !== undefined) memory.reservation = parseByteSize(f.memoryReservation, 'memory-reservation');
  if (f.memorySwap !== undefined) memory.swap = parseByteSize(f.memorySwap, 'memory-swap');
  const shares = f.cpuShare ?? f.cpuShares;
  if (shares !== undefined) cpu.shares = parseInteger(shares, f.cpuShare !== undefined ? 'cpu-share' : 'cpu-shares', 0);
  if (f.cpuPeriod !== undefined) cpu.period = parseInteger(f.cpuPeriod, 'cpu-period', 0);
  if (f.cpuQuota !== undefined) cpu.quota = parseInteger(f.cpuQuota, 'cpu-quota', -Infinity);
  if (f.cpuBurst !== undefined) cpu.burst = parseInteger(f.cpuBurst, 'cpu-burst', 0);
  if (f.cpuRtPeriod !== undefined) cpu.realtimePeriod = parseInteger(f.cpuRtPeriod, 'cpu-rt-period', 0);
  if (f.cpuRtRuntime !== undefined) cpu.realtimeRuntime = parseInteger(f.cpuRtRuntime, 'cpu-rt-runtime', -Infinity);
  if (f.cpuIdle !== undefined) cpu.idle = parseInteger(f.cpuIdle, 'cpu-idle', -Infinity);
  if (f.cpusetCpus) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems) cpu.mems = f.cpusetMems;
  if (f.pidsLimit !== undefined) r.pids = { limit: parseInteger(f.pidsLimit, 'pids-limit', -Infinity) };
  if (f.blkioWeight !== undefined) r.blockIO = { weight: parseInteger(f.blkioWeight, 'blkio-weight', 0) };
  if (Object.keys(memory).length === 0) delete r.memory;
  if (Object.keys(cpu).length === 0) delete r.cpu;
  return r;
}

/** -r FILE or -r - (standard input): a linux.resources object, checked as in a config. */
function readResources(source: string): Resources {
  const file = source === '-' ? '(standard input)' : resolve(source);
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new TsrunError(`--resources ${source}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { file });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TsrunError(`--resources ${source}: not JSON (${(err as Error).message})`, { file });
  }
  return validateResources(raw, file);
}

const command: CommandModule<UpdateArgs> = {
  command: 'update',
  describe: 'change the resource limits of a created, running or paused container (as runc update)',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: OPTIONS,
  epilog: 'Limits are checked as at create: one whose cgroup v2 controller this host lacks is refused. Device rules are not changed (as runc).',
  async handler(args) {
    const warn = cliWarner(args);
    const change = args.resources !== undefined ? readResources(args.resources) : validateResources(resourcesFromFlags(args, warn));
    const { updateContainer } = await import('../../container/update.js');
    await updateContainer(args.root, args.id, change, { warn });
    return 0;
  },
};

export default command;
