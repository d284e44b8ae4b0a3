// linux.resources.cpu (except cpus/mems, see cpuset.ts) → the v2 cpu controller.
//   shares → cpu.weight. v1 shares run 2..262144 (default 1024), v2 weights 1..10000 (default 100). We use
//            the linear map runc and crun use, weight = 1 + ((shares − 2) × 9999) / 262142 (integer
//            division), so 2 → 1, 1024 → 39, 262144 → 10000, and a config means the same under any runtime.
//            Shares outside 2..262144 are clamped first, as the v1 kernel did.
//   quota/period → cpu.max "QUOTA PERIOD"; quota ≤ 0 or unset → "max"; period omitted → kernel keeps its own.
//   burst → cpu.max.burst; idle → cpu.idle.
//   realtimeRuntime/realtimePeriod: v2 has no RT group scheduling files, so they are refused.
import { ConfigError } from '../../errors.js';
import type { Resources } from '../../oci/types.js';
import type { FileWrite } from '../types.js';
import { requireInteger } from './common.js';

export function sharesToWeight(shares: number): number {
  const clamped = Math.min(Math.max(shares, 2), 262144);
  return 1 + Math.floor(((clamped - 2) * 9999) / 262142);
}

export function cpuWrites(resources: Resources, prefix: string): FileWrite[] {
  const cpu = resources.cpu;
  if (cpu === undefined) return [];
  const p = `${prefix}.cpu`;
  const out: FileWrite[] = [];
  const write = (file: string, value: string, field: string): void => {
    out.push({ controller: 'cpu', file, value, field });
  };

  if (cpu.shares !== undefined && requireInteger(`${p}.shares`, cpu.shares) !== 0) {
    write('cpu.weight', String(sharesToWeight(cpu.shares)), `${p}.shares`);
  }

  const quota = cpu.quota === undefined ? 0 : requireInteger(`${p}.quota`, cpu.quota);
  const period = cpu.period === undefined ? 0 : requireInteger(`${p}.period`, cpu.period);
  if (period < 0) throw new ConfigError(`${p}.period`, `must be positive, got ${period}`);
  if (quota !== 0 || period !== 0) {
    const quotaText = quota > 0 ? String(quota) : 'max';
    write('cpu.max', period > 0 ? `${quotaText} ${period}` : quotaText, quota !== 0 ? `${p}.quota` : `${p}.period`);
  }

  if (cpu.burst !== undefined) {
    const burst = requireInteger(`${p}.burst`, cpu.burst);
    if (burst < 0) throw new ConfigError(`${p}.burst`, `must not be negative, got ${burst}`);
    write('cpu.max.burst', String(burst), `${p}.burst`);
  }

  if (cpu.idle !== undefined) {
    const idle = requireInteger(`${p}.idle`, cpu.idle);
    if (idle !== 0 && idle !== 1) throw new ConfigError(`${p}.idle`, `must be 0 or 1, got ${idle}`);
    write('cpu.idle', String(idle), `${p}.idle`);
  }

  for (const key of ['realtimeRuntime', 'realtimePeriod'] as const) {
    const value = cpu[key];
    if (value !== undefined && value !== 0) {
      throw new ConfigError(`${p}.${key}`, 'real-time CPU limits do not exist on cgroup v2 (no RT group scheduling files); remove the field');
    }
  }
  return out;
}
