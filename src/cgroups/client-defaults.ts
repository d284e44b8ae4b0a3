// Limits that clients put in every config by default, and that only restate what a cgroup gets
// anyway: `ctr run` sets cpu shares 1024 (cgroup v1's default weight), podman and buildah a pids limit
// of 2048 (containers.conf's pids_limit). On a host whose v2 hierarchy lacks the controller (a hybrid
// host), refusing them fails every container these clients start with their defaults. So such a
// write is dropped with a warning there; any other value is the user's own limit and is still
// refused (plan.ts). A pids limit of 2048 set on purpose looks the same: it is not applied either,
// and the warning says so.
import type { Resources } from '../oci/types.js';
import type { FileWrite } from './types.js';

const PREFIX = 'linux.resources';

/** Why `write` only restates a client's default, or undefined when it is a limit of the user's. */
export function clientDefault(write: FileWrite, resources: Resources): string | undefined {
  // (Shares 1022 to 1048 all map to weight 39: the config's value decides, not the file's.)
  if (write.field === `${PREFIX}.cpu.shares` && resources.cpu?.shares === 1024) return 'cpu shares 1024 is cgroup v1\'s default weight (`ctr run` sets it for every container)';
  if (write.field === `${PREFIX}.unified["cpu.weight"]` && write.value.trim() === '100') return 'cpu.weight 100 is the default weight';
  if (write.field === `${PREFIX}.pids.limit` && write.value === '2048') return 'a pids limit of 2048 is podman\'s and buildah\'s default (containers.conf pids_limit)';
  return undefined;
}
