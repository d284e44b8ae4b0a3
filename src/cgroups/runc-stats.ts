// A cgroup v2 directory's usage in the shape `runc events --stats` prints (runc's types.Stats, read as
// runc 1.1's fs2 driver reads it), so that tools written against runc's output parse tsrun's: the
// key names, the units (nanoseconds of CPU, bytes), the v1-style tables v2 files are mapped to, and
// Go's encoding (fields with `omitempty` left out when zero; uint64 "max" as 18446744073709551615).
// Pure: the files come through `read`, so it is unit-tested with made-up ones.
import { parseFlatKeyed } from './files.js';

/** "max" and every uint64 value JSON numbers cannot hold exactly travel as bigint. */
type U64 = number | bigint;
const MAX_U64 = 18446744073709551615n;

export interface RuncMemoryEntry { limit: U64; usage?: U64; max?: U64; failcnt: U64 }
export interface RuncBlkioEntry { major?: number; minor?: number; op?: string; value?: U64 }

export interface RuncStats {
  cpu: {
    usage: { total?: U64; percpu?: U64[]; percpu_kernel?: U64[]; percpu_user?: U64[]; kernel: U64; user: U64 };
    throttling: { periods?: U64; throttledPeriods?: U64; throttledTime?: U64 };
  };
  cpuset: Record<string, number>;
  memory: { cache?: U64; usage: RuncMemoryEntry; swap: RuncMemoryEntry; kernel: RuncMemoryEntry; kernelTCP: RuncMemoryEntry; raw?: Record<string, U64> };
  pids: { current?: U64; limit?: U64 };
  blkio: { ioServiceBytesRecursive?: RuncBlkioEntry[]; ioServicedRecursive?: RuncBlkioEntry[] };
  hugetlb: Record<string, { usage?: U64; max?: U64; failcnt: U64 }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

/** Reads a file of the container's cgroup; undefined when it does not exist. */
export type CgroupFileReader = (file: string) => string | undefined;

/** A single value as Go's GetCgroupParamUint reads it: "max" is the largest uint64. */
function u64(text: string | undefined): U64 | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === 'max') return MAX_U64;
  const n = BigInt(t);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

const times1000 = (v: number | undefined): U64 | undefined => (v === undefined ? undefined : v * 1000 <= Number.MAX_SAFE_INTEGER ? v * 1000 : BigInt(v) * 1000n);
const isZero = (v: U64 | undefined): boolean => v === undefined || v === 0 || v === 0n;
/** Go's omitempty: the key only when the value is not zero. */
const nonZero = <K extends string>(key: K, v: U64 | undefined): Partial<Record<K, U64>> => (isZero(v) ? {} : { [key]: v! } as Record<K, U64>);

function cpuStats(read: CgroupFileReader): RuncStats['cpu'] {
  const s = parseFlatKeyed(read('cpu.stat') ?? '');
  return {
    usage: { ...nonZero('total', times1000(s.usage_usec)), kernel: times1000(s.system_usec) ?? 0, user: times1000(s.user_usec) ?? 0 },
    throttling: { ...nonZero('periods', s.nr_periods), ...nonZero('throttledPeriods', s.nr_throttled), ...nonZero('throttledTime', times1000(s.throttled_usec)) },
  };
}

const emptyEntry = (): RuncMemoryEntry => ({ limit: 0, failcnt: 0 });
const entry = (usage: U64 | undefined, limit: U64 | undefined): RuncMemoryEntry => ({ limit: limit ?? 0, ...nonZero('usage', usage), failcnt: 0 });
const add = (a: U64, b: U64): U64 => (typeof a === 'number' && typeof b === 'number' && a + b <= Number.MAX_SAFE_INTEGER ? a + b : BigInt(a) + BigInt(b));

function memoryStats(read: CgroupFileReader): RuncStats['memory'] {
  const stat = read('memory.stat');
  const empty = { usage: emptyEntry(), swap: emptyEntry(), kernel: emptyEntry(), kernelTCP: emptyEntry() };
  if (stat === undefined) return empty;
  const raw: Record<string, U64> = {};
  for (const line of stat.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) raw[k] = u64(v)!;
  }
  const usage = u64(read('memory.current'));
  const limit = u64(read('memory.max'));
  if (usage === undefined || limit === undefined) return { ...empty, ...(Object.keys(raw).length ? { raw } : {}) };
  // runc reports swap as memory + swap, the way cgroup v1 counted it.
  const swapUsage = u64(read('memory.swap.current'));
  const swapLimit = u64(read('memory.swap.max'));
  const swap = swapUsage === undefined || swapLimit === undefined ? emptyEntry()
    : entry(add(swapUsage, usage), swapLimit === MAX_U64 ? MAX_U64 : add(swapLimit, limit));
  return {
    ...nonZero('cache', raw.file),
    usage: entry(usage, limit), swap, kernel: emptyEntry(), kernelTCP: emptyEntry(),
    ...(Object.keys(raw).length ? { raw } : {}),
  };
}

function pidsStats(read: CgroupFileReader): RuncStats['pids'] {
  const current = u64(read('pids.current'));
  if (current === undefined) {
    // As runc: without the pids controller, count the cgroup's processes.
    const procs = read('cgroup.procs') ?? '';
    return nonZero('current', procs.split('\n').filter(Boolean).length);
  }
  const max = u64(read('pids.max'));
  return { ...nonZero('current', current), ...nonZero('limit', max === MAX_U64 ? 0 : max) };
}

function blkioStats(read: CgroupFileReader): RuncStats['blkio'] {
  const text = read('io.stat');
  if (text === undefined) return {};
  const bytes: RuncBlkioEntry[] = [];
  const ios: RuncBlkioEntry[] = [];
  const ops: Record<string, [RuncBlkioEntry[], string]> = { rbytes: [bytes, 'Read'], wbytes: [bytes, 'Write'], rios: [ios, 'Read'], wios: [ios, 'Write'] };
  for (const line of text.split('\n')) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const [major, minor] = (device ?? '').split(':').map(Number);
    if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) continue;
    for (const pair of pairs) {
      const [key, value] = pair.split('=');
      const target = ops[key ?? ''];
      if (!target || value === undefined) continue;
      target[0].push({ ...(major ? { major } : {}), ...(minor ? { minor } : {}), op: target[1], ...nonZero('value', u64(value)) });
    }
  }
  return { ...(bytes.length ? { ioServiceBytesRecursive: bytes } : {}), ...(ios.length ? { ioServicedRecursive: ios } : {}) };
}

function hugetlbStats(read: CgroupFileReader, pageSizes: readonly string[]): RuncStats['hugetlb'] {
  const out: RuncStats['hugetlb'] = {};
  for (const size of pageSizes) {
    const usage = u64(read(`hugetlb.${size}.current`));
    if (usage === undefined) break; // runc stops at the first missing file
    const events = parseFlatKeyed(read(`hugetlb.${size}.events`) ?? '');
    out[size] = { ...nonZero('usage', usage), failcnt: events.max ?? 0 };
  }
  return out;
}

const CPUSET_ZEROS = ['cpu_exclusive', 'mem_hardwall', 'mem_exclusive', 'memory_migrate', 'memory_spread_page', 'memory_spread_slab', 'memory_pressure', 'sched_load_balance', 'sched_relax_domain_level'];

/** runc's types.Stats of a cgroup v2 directory. `hugePageSizes` as hugetlb names them ("2MB"). */
export function runcStats(read: CgroupFileReader, hugePageSizes: readonly string[]): RuncStats {
  return {
    cpu: cpuStats(read),
    // runc's v2 driver has no cpuset statistics: Go's zero values.
    cpuset: Object.fromEntries(CPUSET_ZEROS.map((k) => [k, 0])),
    memory: memoryStats(read),
    pids: pidsStats(read),
    blkio: blkioStats(read),
    hugetlb: hugetlbStats(read, hugePageSizes),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** JSON.stringify that writes bigints as JSON numbers (what Go writes for a uint64). */
export function stringifyWithU64(value: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000u64:${marks.push(v.toString()) - 1}` : v));
  return text.replace(/"\\u0000u64:(\d+)"/g, (_m, i: string) => marks[Number(i)]!);
}
