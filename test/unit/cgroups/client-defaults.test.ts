// Clients' default limits on a host without the controller: a warning, not a refusal (issue 16, item 8).
import { describe, expect, it } from 'vitest';
import { planCgroup } from '../../../src/cgroups/plan.js';
import type { CgroupHost } from '../../../src/cgroups/types.js';
import type { Resources, Spec } from '../../../src/oci/types.js';

const HYBRID: CgroupHost = { mountPoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'], hybrid: true };
const PURE: CgroupHost = { mountPoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'], hybrid: false };
const spec = (resources: Resources): Spec => ({ ociVersion: '1.2.0', linux: { resources } });

describe('client defaults where v2 lacks the controller', () => {
  it('ctr\'s cpu shares 1024 and podman\'s pids limit 2048 are dropped with a warning naming field, client and host', () => {
    const plan = planCgroup(spec({ cpu: { shares: 1024 }, pids: { limit: 2048 } }), 'c1', HYBRID);
    expect(plan.writes).toEqual([]);
    expect(plan.controllers).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.stringMatching(/^linux\.resources\.cpu\.shares not applied: cpu shares 1024 is cgroup v1's default weight \(`ctr run` sets it for every container\), and this host's v2 hierarchy \(\/sys\/fs\/cgroup\/unified\) has only: hugetlb/),
      expect.stringMatching(/^linux\.resources\.pids\.limit not applied: a pids limit of 2048 is podman's and buildah's default/),
    ]);
  });

  it('unified cpu.weight "100" is the default weight too', () => {
    expect(planCgroup(spec({ unified: { 'cpu.weight': '100' } }), 'c1', HYBRID).writes).toEqual([]);
  });

  it('any other value is the user\'s limit: still refused', () => {
    expect(() => planCgroup(spec({ cpu: { shares: 1023 } }), 'c1', HYBRID)).toThrow(/^linux\.resources\.cpu\.shares: needs the cgroup v2 "cpu" controller/);
    expect(() => planCgroup(spec({ pids: { limit: 2047 } }), 'c1', HYBRID)).toThrow(/^linux\.resources\.pids\.limit: needs the cgroup v2 "pids" controller/);
    expect(() => planCgroup(spec({ unified: { 'cpu.weight': '101' } }), 'c1', HYBRID)).toThrow(/needs the cgroup v2 "cpu" controller/);
  });

  it('where the controller exists the defaults are written as any limit', () => {
    const plan = planCgroup(spec({ cpu: { shares: 1024 }, pids: { limit: 2048 } }), 'c1', PURE);
    expect(plan.writes.map((w) => `${w.file}=${w.value}`)).toEqual(['cpu.weight=39', 'pids.max=2048']);
    expect(plan.warnings).toEqual([]);
  });
});
