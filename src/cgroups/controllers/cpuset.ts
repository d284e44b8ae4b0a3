// linux.resources.cpu.cpus/mems → the v2 cpuset controller (cpuset.cpus, cpuset.mems), written verbatim
// after a syntax check, so a typo is a config error rather than a kernel EINVAL after mkdir.
import { ConfigError } from '../../errors.js';
import type { Resources } from '../../oci/types.js';
import type { FileWrite } from '../types.js';

/** "0-3,5,7-8": the kernel's list syntax (empty is allowed by the kernel but means "inherit" only in v2). */
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

export function cpusetWrites(resources: Resources, prefix: string): FileWrite[] {
  const cpu = resources.cpu;
  if (cpu === undefined) return [];
  const out: FileWrite[] = [];
  for (const [key, file] of [['cpus', 'cpuset.cpus'], ['mems', 'cpuset.mems']] as const) {
    const value = cpu[key];
    if (value === undefined || value === '') continue;
    const field = `${prefix}.cpu.${key}`;
    const compact = value.replace(/\s+/g, '');
    if (!CPU_LIST.test(compact)) throw new ConfigError(field, `must be a list like "0-3,5", got ${JSON.stringify(value)}`);
    out.push({ controller: 'cpuset', file, value: compact, field });
  }
  return out;
}
