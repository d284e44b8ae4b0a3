// linux.resources.pids.limit → pids.max. As in runc, a positive limit is written as is and 0 or -1 mean
// unlimited ("max"); 0 is treated as unlimited because a limit of zero processes could never start.
import type { Resources } from '../../oci/types.js';
import type { FileWrite } from '../types.js';
import { requireInteger } from './common.js';

export function pidsWrites(resources: Resources, prefix: string): FileWrite[] {
  const pids = resources.pids;
  if (pids === undefined) return [];
  const field = `${prefix}.pids.limit`;
  const limit = requireInteger(field, pids.limit);
  return [{ controller: 'pids', file: 'pids.max', value: limit > 0 ? String(limit) : 'max', field }];
}
