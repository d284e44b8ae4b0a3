// Resource usage of a cgroup, from whichever v2 files exist (a file is absent when its controller is
// not enabled, so on a hybrid host most of this is undefined). Used by `events --stats` and exit reports.
import { readdirSync } from 'node:fs';
import { parseFlatKeyed, parseSingle, readCgroupFile } from './files.js';

/** "hugepages-2048kB" (sysfs) → "2MB" (the name hugetlb files use: the largest unit that divides evenly). */
export function hugePageSizeName(sysfsName: string): string | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(sysfsName);
  if (!m) return undefined;
  const kb = Number(m[1]);
  if (kb % (1024 * 1024) === 0) return `${kb / (1024 * 1024)}GB`;
  if (kb % 1024 === 0) return `${kb / 1024}MB`;
  return `${kb}KB`;
}

/** Huge page sizes the kernel supports, e.g. ["1GB", "2MB"]; empty without hugetlbfs support. */
export function hostHugePageSizes(sysfs = '/sys/kernel/mm/hugepages'): string[] {
  try {
    return readdirSync(sysfs).map(hugePageSizeName).filter((s): s is string => s !== undefined);
  } catch {
    return [];
  }
}

export interface IoDeviceStats {
  device: string; // "MAJ:MIN"
  rbytes: number;
  wbytes: number;
  rios: number;
  wios: number;
  dbytes: number;
  dios: number;
}

export interface CgroupStats {
  memory?: {
    current?: number;
    peak?: number;
    max?: number;
    /** memory.events: low, high, max, oom, oom_kill, oom_group_kill. */
    events?: Record<string, number>;
  };
  /** cpu.stat: usage_usec, user_usec, system_usec (always, core), nr_periods, nr_throttled, throttled_usec (cpu controller). */
  cpu?: Record<string, number>;
  pids?: { current?: number; max?: number };
  io?: IoDeviceStats[];
  /** Per page size ("2MB"): current usage and limit in bytes. */
  hugetlb?: Record<string, { current: number; max: number }>;
}

const defined = <T extends object>(o: T): T | undefined => (Object.values(o).some((v) => v !== undefined) ? o : undefined);

function single(dir: string, file: string): number | undefined {
  const text = readCgroupFile(dir, file);
  return text === undefined ? undefined : parseSingle(text);
}

function keyed(dir: string, file: string): Record<string, number> | undefined {
  const text = readCgroupFile(dir, file);
  return text === undefined ? undefined : parseFlatKeyed(text);
}

/** io.stat lines: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
export function parseIoStat(text: string): IoDeviceStats[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [device = '', ...pairs] = line.trim().split(/\s+/);
      const v = Object.fromEntries(pairs.map((p) => p.split('=')).map(([k, n]) => [k, Number(n)]));
      const n = (k: string): number => (typeof v[k] === 'number' ? v[k] : 0);
      return { device, rbytes: n('rbytes'), wbytes: n('wbytes'), rios: n('rios'), wios: n('wios'), dbytes: n('dbytes'), dios: n('dios') };
    });
}

function hugetlbStats(dir: string, pageSizes: string[]): CgroupStats['hugetlb'] {
  const out: Record<string, { current: number; max: number }> = {};
  for (const size of pageSizes) {
    const current = single(dir, `hugetlb.${size}.current`);
    const max = single(dir, `hugetlb.${size}.max`);
    if (current !== undefined && max !== undefined) out[size] = { current, max };
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

export function readStats(dir: string, hugePageSizes: string[] = hostHugePageSizes()): CgroupStats {
  const io = readCgroupFile(dir, 'io.stat');
  const stats: CgroupStats = {};
  const memory = defined({
    current: single(dir, 'memory.current'),
    peak: single(dir, 'memory.peak'),
    max: single(dir, 'memory.max'),
    events: keyed(dir, 'memory.events'),
  });
  if (memory) stats.memory = memory;
  const cpu = keyed(dir, 'cpu.stat');
  if (cpu) stats.cpu = cpu;
  const pids = defined({ current: single(dir, 'pids.current'), max: single(dir, 'pids.max') });
  if (pids) stats.pids = pids;
  if (io !== undefined) stats.io = parseIoStat(io);
  const hugetlb = hugetlbStats(dir, hugePageSizes);
  if (hugetlb) stats.hugetlb = hugetlb;
  return stats;
}
