// A cgroup namespace's root is the cgroup its creator was in when it was made (cgroup_namespaces(7)).
// The container must read its own cgroup as "/" and see only it under /sys/fs/cgroup however it got
// into its cgroup: born there (clone3 CLONE_INTO_CGROUP), placed through cgroup.procs (no clone3:
// TSRUN_NO_CLONE3), or cloned by tsrun-init's first stage (a user namespace).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/oci/types.js';
import { cannotRunContainers, containerTestHooks, makeBundle, runBundle } from '../../helpers/bundle.js';
import { cgroup2Mount } from '../../helpers/lifecycle.js';

const skip = cannotRunContainers() ?? (cgroup2Mount() ? undefined : 'no cgroup v2 mount');

const cases: { name: string; env: Record<string, string>; mutate?: (s: Spec) => void }[] = [
  { name: 'born in its cgroup', env: {} },
  { name: 'placed through cgroup.procs', env: { TSRUN_NO_CLONE3: '1' } },
  {
    name: 'with a user namespace (two stages)', env: {},
    mutate: (s) => { s.linux!.namespaces!.push({ type: 'user' }); s.linux!.uidMappings = s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }]; },
  },
  {
    name: 'with a user namespace, placed through cgroup.procs', env: { TSRUN_NO_CLONE3: '1' },
    mutate: (s) => { s.linux!.namespaces!.push({ type: 'user' }); s.linux!.uidMappings = s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }]; },
  },
];

describe.skipIf(skip !== undefined)(`cgroup namespace root${skip ? ` [skipped: ${skip}]` : ''}`, () => {
  containerTestHooks({ beforeEach, afterEach });

  for (const c of cases) {
    it(`${c.name}: /proc/self/cgroup is 0::/ and /sys/fs/cgroup shows only the container's cgroup`, async () => {
      const b = makeBundle({
        mutate: (s) => {
          s.linux!.namespaces!.push({ type: 'cgroup' });
          s.process!.args = ['sh', '-c', 'grep "^0::" /proc/self/cgroup; ls /sys/fs/cgroup | grep -c "^tsrun$"; cat /sys/fs/cgroup/cgroup.procs | grep -c "^1$"'];
          c.mutate?.(s);
        },
      });
      const r = await runBundle(b, [], { env: c.env });
      expect(r.stdout.trim().split('\n'), r.stderr).toEqual(['0::/', '0', '1']);
    });
  }
});
