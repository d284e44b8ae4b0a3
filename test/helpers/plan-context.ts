// The plan context and spec the plan unit tests share: a bundle at /bundles/b on a made-up host.
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/types.js';
import type { ContainerPlanContext } from '../../src/plan/container.js';

export const planContext: ContainerPlanContext = {
  bundleDir: '/bundles/b', rootfs: '/bundles/b/rootfs', runningAsRoot: true, cgroup2Mount: '/sys/fs/cgroup/unified',
  host: { kind: (p) => (p.endsWith('.conf') ? 'file' : p.startsWith('/missing') ? undefined : 'dir') },
};

/** The default spec without a terminal, changed by `mutate`. */
export function planSpec(mutate: (s: Spec) => void = () => {}): Spec {
  const s = defaultSpec();
  s.process!.terminal = false;
  mutate(s);
  return s;
}
