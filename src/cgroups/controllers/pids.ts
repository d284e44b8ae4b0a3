// linux.resources.pids.limit → pids.max. As in runc and crun, a positive limit is written as is and 0
// or -1 mean no limit, so nothing is written (and a host without the pids controller is no obstacle:
// podman passes 0 for "unlimited").
import type { Resources } from '../../oci/types.js';
import type { FileWrite } from '../types.js';
import { requireInteger } from './common.js';

export function pidsWrites(resources: Resources, prefix: string): FileWrite[] {
  const pids = resources.pids;
  if (pids === undefined) return [];
  const field = `${prefix}.pids.limit`;
  const limit = requireInteger(field, pids.limit);
  return limit > 0 ? [{ controller: 'pids', file: 'pids.max', value: String(limit), field }] : [];
}
