// The properties of a container's transient scope (StartTransientUnit), as runc's systemd driver
// sets them for cgroup v2 (runc's docs/systemd.md and libcontainer's systemd/v2.go):
//   Description, Slice, Delegate=yes, PIDs=[init] (withPid, at placement), Memory/CPU/IO/TasksAccounting=yes,
//   DefaultDependencies=no (no ordering against shutdown.target & co.: tsrun stops the scope itself),
// then the limits systemd knows, so that it keeps them (a daemon-reload re-applies what the unit says):
//   memory.max → MemoryMax, memory.low → MemoryLow, memory.high → MemoryHigh, memory.min → MemoryMin,
//   memory.swap.max → MemorySwapMax, pids.max → TasksMax, cpu.weight → CPUWeight,
//   cpu.idle 1 → CPUWeight=0 (systemd ≥ 252), cpu.max → CPUQuotaPerSecUSec (+ CPUQuotaPeriodUSec, ≥ 242),
//   cpuset.cpus/mems → AllowedCPUs/AllowedMemoryNodes (≥ 244), memory.oom.group → OOMPolicy (≥ 253).
// They are derived from the planned cgroupfs writes, so linux.resources and linux.resources.unified
// give the same properties. Every write is still made to the scope's files afterwards (runc's v2
// manager does too): io, hugetlb, cpu.max.burst… have no property.
//
// systemd keeps CPU quotas in whole percents: a quota that is not a multiple of 10 ms per second is
// rounded up, and the cpu.max write is changed to match (as runc does), so that both say the same.
import { ConfigError } from '../../errors.js';
import type { FileWrite } from '../types.js';
import type { UnitProperty } from './manager-api.js';
import { Variant } from './wire.js';

/** systemd's "infinity" for byte and task limits (UINT64_MAX). */
const INFINITY = 0xffff_ffff_ffff_ffffn;
/** The kernel's default cpu.max period, which systemd assumes too. */
const DEFAULT_PERIOD = 100_000n;
/** AllowedCPUs masks are built bit by bit: beyond this CPU number a list is surely a mistake. */
const MAX_CPU = 1 << 16;

export interface ScopeRequest {
  id: string;
  unit: string;
  slice: string;
  writes: readonly FileWrite[];
  /** systemd's version (older ones lack some properties); -1 when unknown (then all are sent). */
  systemdVersion: number;
}

export interface ScopeProperties {
  properties: UnitProperty[];
  /** The writes, with cpu.max matched to systemd's rounding. */
  writes: FileWrite[];
  /** Limits systemd is not told about (too old), for the caller to log; they are still written. */
  notes: string[];
}

const prop = (name: string, signature: string, value: Variant['value']): UnitProperty => [name, new Variant(signature, value)];

/** The properties with the container's init in PIDs: systemd moves it into the scope it makes. */
export function withPid(properties: readonly UnitProperty[], pid: number): UnitProperty[] {
  const at = properties.findIndex(([name]) => name === 'Delegate') + 1;
  return [...properties.slice(0, at), prop('PIDs', 'au', [pid]), ...properties.slice(at)];
}

export function scopeProperties(r: ScopeRequest): ScopeProperties {
  const properties: UnitProperty[] = [
    prop('Description', 's', `tsrun container ${r.id}`),
    prop('Slice', 's', r.slice),
    prop('Delegate', 'b', true),
    prop('MemoryAccounting', 'b', true),
    prop('CPUAccounting', 'b', true),
    prop('IOAccounting', 'b', true),
    prop('TasksAccounting', 'b', true),
    prop('DefaultDependencies', 'b', false),
  ];
  const notes: string[] = [];
  const atLeast = (version: number, what: string): boolean => {
    if (r.systemdVersion < 0 || r.systemdVersion >= version) return true;
    notes.push(`${what} is not given to systemd ${r.systemdVersion} (it needs ${version}); it is written to the scope's cgroup only`);
    return false;
  };
  const idle = r.writes.some((w) => w.file === 'cpu.idle' && w.value.trim() === '1') && r.systemdVersion >= 252;
  const writes = r.writes.map((w): FileWrite => {
    const value = w.value.trim();
    switch (w.file) {
      case 'memory.max': case 'memory.low': case 'memory.high': case 'memory.min': case 'memory.swap.max':
        properties.push(prop(MEMORY_PROPERTY[w.file]!, 't', bytes(w, value)));
        return w;
      case 'pids.max': {
        const n = bytes(w, value);
        properties.push(prop('TasksMax', 't', n === 0n ? 1n : n)); // systemd refuses TasksMax=0
        return w;
      }
      case 'cpu.weight':
        if (!idle) properties.push(prop('CPUWeight', 't', BigInt(integer(w, value))));
        return w;
      case 'cpu.idle':
        if (idle) properties.push(prop('CPUWeight', 't', 0n)); // systemd's way of asking for cpu.idle 1
        return w;
      case 'cpu.max': return cpuQuota(w, value, properties, atLeast);
      case 'cpuset.cpus': case 'cpuset.mems': {
        const name = w.file === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes';
        if (atLeast(244, name)) properties.push(prop(name, 'ay', cpuMask(w, value)));
        return w;
      }
      case 'memory.oom.group':
        if ((value === '0' || value === '1') && atLeast(253, 'OOMPolicy')) properties.push(prop('OOMPolicy', 's', value === '1' ? 'kill' : 'continue'));
        return w;
      default: return w;
    }
  });
  return { properties, writes, notes };
}

const MEMORY_PROPERTY: Record<string, string> = {
  'memory.max': 'MemoryMax', 'memory.low': 'MemoryLow', 'memory.high': 'MemoryHigh', 'memory.min': 'MemoryMin', 'memory.swap.max': 'MemorySwapMax',
};

function integer(w: FileWrite, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(w.field, `with --systemd-cgroup, ${w.file} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** "max" → infinity, a decimal → itself (systemd takes bytes and task counts, no suffixes). */
function bytes(w: FileWrite, value: string): bigint {
  if (value === 'max') return INFINITY;
  if (!/^\d+$/.test(value) || BigInt(value) >= INFINITY) {
    throw new ConfigError(w.field, `with --systemd-cgroup, ${w.file} must be "max" or a number below 2^64 (systemd takes no suffixes), got ${JSON.stringify(value)}`);
  }
  return BigInt(value);
}

/** cpu.max "QUOTA|max [PERIOD]" → CPUQuotaPerSecUSec (+ CPUQuotaPeriodUSec); the write as systemd will round it. */
function cpuQuota(w: FileWrite, value: string, properties: UnitProperty[], atLeast: (v: number, what: string) => boolean): FileWrite {
  const [quotaText, periodText, extra] = value.split(/\s+/);
  if (quotaText === undefined || extra !== undefined || (quotaText !== 'max' && !/^\d+$/.test(quotaText)) || (periodText !== undefined && !/^\d+$/.test(periodText))) {
    throw new ConfigError(w.field, `cpu.max must be "QUOTA [PERIOD]" or "max [PERIOD]", got ${JSON.stringify(value)}`);
  }
  const period = periodText === undefined ? 0n : BigInt(periodText);
  if (period !== 0n && atLeast(242, 'CPUQuotaPeriodUSec')) properties.push(prop('CPUQuotaPeriodUSec', 't', period));
  if (quotaText === 'max') {
    properties.push(prop('CPUQuotaPerSecUSec', 't', INFINITY));
    return w;
  }
  const p = period === 0n ? DEFAULT_PERIOD : period;
  let perSec = (BigInt(quotaText) * 1_000_000n) / p;
  let quota = BigInt(quotaText);
  if (perSec % 10_000n !== 0n) {
    perSec = (perSec / 10_000n + 1n) * 10_000n;
    quota = (perSec * p) / 1_000_000n;
  }
  properties.push(prop('CPUQuotaPerSecUSec', 't', perSec));
  return { ...w, value: periodText === undefined ? String(quota) : `${quota} ${periodText}` };
}

/** "0-2,5" → the bytes of a CPU (or node) mask, CPU n at bit n % 8 of byte n / 8, as systemd reads it. */
export function cpuMask(w: FileWrite, list: string): Uint8Array {
  const bits = new Set<number>();
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (!m || to < from || to >= MAX_CPU) throw new ConfigError(w.field, `${JSON.stringify(list)} is not a list of CPUs or nodes below ${MAX_CPU} like "0-3,5"`);
    for (let i = from; i <= to; i++) bits.add(i);
  }
  const mask = new Uint8Array(Math.max(1, Math.floor(Math.max(...bits) / 8) + 1));
  for (const b of bits) mask[b >> 3] = (mask[b >> 3] ?? 0) | (1 << (b & 7));
  return mask;
}
