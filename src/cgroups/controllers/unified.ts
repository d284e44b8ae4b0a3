// linux.resources.unified → written verbatim, after checking the key is the plain name of an interface
// file: "<controller>.<name>" (the planner then requires that controller like any other), or one of the
// few core limits that need no controller. Keys with "/" could escape the cgroup directory, and core
// files such as cgroup.procs or cgroup.subtree_control would let a config move processes or rewire the
// tree behind the runtime's back, so those are refused.
import { ConfigError } from '../../errors.js';
import type { Resources } from '../../oci/types.js';
import type { FileWrite } from '../types.js';

const KEY = /^([a-z_]+)\.[A-Za-z0-9_.-]+$/; // hugetlb.2MB.max has capitals
const CORE_LIMITS = new Set(['cgroup.max.depth', 'cgroup.max.descendants']);

export function unifiedWrites(resources: Resources, prefix: string): FileWrite[] {
  const unified = resources.unified;
  if (unified === undefined) return [];
  return Object.entries(unified).map(([key, value]): FileWrite => {
    const field = `${prefix}.unified[${JSON.stringify(key)}]`;
    if (key.includes('/')) throw new ConfigError(field, 'must be a file name in the container\'s cgroup, without "/"');
    const match = KEY.exec(key);
    if (match === null || key.endsWith('.')) {
      throw new ConfigError(field, 'is not a cgroup v2 interface file name (expected "<controller>.<file>", e.g. "memory.high")');
    }
    if (typeof value !== 'string') throw new ConfigError(field, `must be a string, got ${JSON.stringify(value)}`);
    const controller = match[1] ?? '';
    if (controller === 'cgroup' && !CORE_LIMITS.has(key)) {
      throw new ConfigError(field, `is a core cgroup file the runtime manages itself; only ${[...CORE_LIMITS].join(', ')} may be set`);
    }
    return { controller, file: key, value, field };
  });
}
