// linux.resources.blockIO → the v2 io controller.
//   weight (v1 scale 10..1000) → io.bfq.weight as is (BFQ keeps the v1 scale; only when the kernel has BFQ)
//                                and io.weight converted to 1..10000: 1 + (weight − 10) × 9999 / 990,
//                                the conversion runc and crun use, so 500 → 4950 and 1000 → 10000.
//   weightDevice[].weight       → the same two files, as "MAJ:MIN WEIGHT" lines.
//   throttle{Read,Write}{Bps,IOPS}Device → one io.max line per device: "MAJ:MIN rbps=… wbps=… riops=… wiops=…"
//                                (rate 0 → "max", which is how v1 spelled "no limit").
//   leafWeight: no v2 equivalent; reported as a warning by the planner.
import { ConfigError } from '../../errors.js';
import type { BlockIO, Resources, ThrottleDevice } from '../../oci/types.js';
import type { FileWrite } from '../types.js';
import { requireInteger } from './common.js';

export function blkioWeightToIoWeight(weight: number): number {
  const clamped = Math.min(Math.max(weight, 10), 1000);
  return 1 + Math.floor(((clamped - 10) * 9999) / 990);
}

const THROTTLE_KEYS = [
  ['throttleReadBpsDevice', 'rbps'],
  ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'],
  ['throttleWriteIOPSDevice', 'wiops'],
] as const satisfies readonly (readonly [keyof BlockIO, string])[];

export function ioWrites(resources: Resources, prefix: string): FileWrite[] {
  const blockIO = resources.blockIO;
  if (blockIO === undefined) return [];
  const p = `${prefix}.blockIO`;
  return [...weightWrites(blockIO, p), ...throttleWrites(blockIO, p)];
}

function checkWeight(field: string, value: unknown): number {
  const weight = requireInteger(field, value);
  if (weight !== 0 && (weight < 10 || weight > 1000)) {
    throw new ConfigError(field, `must be between 10 and 1000, got ${weight}`);
  }
  return weight;
}

function weightWrites(blockIO: BlockIO, p: string): FileWrite[] {
  const out: FileWrite[] = [];
  const both = (line: (w: number) => string, weight: number, field: string): void => {
    out.push({ controller: 'io', file: 'io.bfq.weight', value: line(weight), field, optional: true });
    out.push({ controller: 'io', file: 'io.weight', value: line(blkioWeightToIoWeight(weight)), field });
  };
  if (blockIO.weight !== undefined) {
    const weight = checkWeight(`${p}.weight`, blockIO.weight);
    if (weight !== 0) both((w) => `default ${w}`, weight, `${p}.weight`);
  }
  (blockIO.weightDevice ?? []).forEach((dev, i) => {
    if (dev.weight === undefined) return;
    const field = `${p}.weightDevice[${i}].weight`;
    const weight = checkWeight(field, dev.weight);
    const id = deviceId(`${p}.weightDevice[${i}]`, dev.major, dev.minor);
    if (weight !== 0) both((w) => `${id} ${w}`, weight, field);
  });
  return out;
}

function deviceId(field: string, major: unknown, minor: unknown): string {
  const maj = requireInteger(`${field}.major`, major);
  const min = requireInteger(`${field}.minor`, minor);
  if (maj < 0 || min < 0) throw new ConfigError(field, `needs a real device number, got ${maj}:${min}`);
  return `${maj}:${min}`;
}

function throttleWrites(blockIO: BlockIO, p: string): FileWrite[] {
  // Collect every limit of a device into one line, keeping the order devices first appear in.
  const lines = new Map<string, { parts: string[]; field: string }>();
  for (const [key, name] of THROTTLE_KEYS) {
    const devices: ThrottleDevice[] = blockIO[key] ?? [];
    devices.forEach((dev, i) => {
      const field = `${p}.${key}[${i}]`;
      const id = deviceId(field, dev.major, dev.minor);
      const rate = requireInteger(`${field}.rate`, dev.rate);
      if (rate < 0) throw new ConfigError(`${field}.rate`, `must not be negative, got ${rate}`);
      const line = lines.get(id) ?? { parts: [], field };
      line.parts.push(`${name}=${rate === 0 ? 'max' : rate}`);
      lines.set(id, line);
    });
  }
  return [...lines].map(([id, { parts, field }]) => ({
    controller: 'io',
    file: 'io.max',
    value: `${id} ${parts.join(' ')}`,
    field,
  }));
}
