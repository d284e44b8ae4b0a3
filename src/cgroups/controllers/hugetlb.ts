// linux.resources.hugepageLimits → hugetlb.<size>.max, plus hugetlb.<size>.rsvd.max where the kernel has
// it (5.7+): limiting only faults lets a reservation succeed and the process die at first touch, while the
// rsvd limit makes mmap() itself fail, which is what a limit should look like to a program.
import { ConfigError } from '../../errors.js';
import type { Resources } from '../../oci/types.js';
import type { FileWrite } from '../types.js';
import { requireInteger } from './common.js';

/** The kernel's own size names: 2MB, 1GB, 64KB … */
const PAGE_SIZE = /^\d+(KB|MB|GB)$/;

export function hugetlbWrites(resources: Resources, prefix: string): FileWrite[] {
  const limits = resources.hugepageLimits ?? [];
  return limits.flatMap((entry, i): FileWrite[] => {
    const p = `${prefix}.hugepageLimits[${i}]`;
    if (typeof entry.pageSize !== 'string' || !PAGE_SIZE.test(entry.pageSize)) {
      throw new ConfigError(`${p}.pageSize`, `must be a size like "2MB" or "1GB", got ${JSON.stringify(entry.pageSize)}`);
    }
    const limit = requireInteger(`${p}.limit`, entry.limit);
    if (limit < 0) throw new ConfigError(`${p}.limit`, `must not be negative, got ${limit}`);
    const value = String(limit);
    return [
      { controller: 'hugetlb', file: `hugetlb.${entry.pageSize}.max`, value, field: `${p}.limit` },
      { controller: 'hugetlb', file: `hugetlb.${entry.pageSize}.rsvd.max`, value, field: `${p}.limit`, optional: true },
    ];
  });
}
