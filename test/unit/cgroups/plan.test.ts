import { describe, expect, it } from 'vitest';
import { hugetlbSizeName } from '../../../src/cgroups/host.js';
import { planCgroup } from '../../../src/cgroups/plan.js';
import { DEFAULT_ALLOWED_DEVICES } from '../../../src/cgroups/devices/rules.js';
import type { CgroupHost } from '../../../src/cgroups/types.js';
import type { Resources, Spec } from '../../../src/oci/types.js';

const HYBRID: CgroupHost = { mountPoint: '/sys/fs/cgroup/unified', controllers: ['hugetlb'], hybrid: true };
const PURE: CgroupHost = { mountPoint: '/sys/fs/cgroup', controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'], hybrid: false };
const spec = (resources: Resources, extra: Partial<NonNullable<Spec['linux']>> = {}): Spec => ({ ociVersion: '1.2.0', linux: { resources, ...extra } });

describe('planCgroup', () => {
  it('refuses a memory limit on this hybrid host, naming field, controller and what the host has', () => {
    expect(() => planCgroup(spec({ memory: { limit: 1 << 26 } }), 'c1', HYBRID)).toThrow(
      'linux.resources.memory.limit: needs the cgroup v2 "memory" controller, but this host\'s v2 hierarchy (/sys/fs/cgroup/unified) has only: hugetlb (cgroup v1 holds the others: hybrid host; see make test-vm)',
    );
  });
  it('refuses cpu and pids limits, and unified keys of missing controllers, the same way', () => {
    expect(() => planCgroup(spec({ cpu: { shares: 512 } }), 'c1', HYBRID)).toThrow(/^linux\.resources\.cpu\.shares: needs the cgroup v2 "cpu" controller/);
    expect(() => planCgroup(spec({ pids: { limit: 10 } }), 'c1', HYBRID)).toThrow(/^linux\.resources\.pids\.limit: needs the cgroup v2 "pids" controller/);
    expect(() => planCgroup(spec({ unified: { 'memory.high': '1M' } }), 'c1', HYBRID)).toThrow(/unified\["memory\.high"\]: needs the cgroup v2 "memory"/);
  });
  it('words a pure v2 host without the controller plainly', () => {
    const host = { ...PURE, controllers: ['memory'] };
    expect(() => planCgroup(spec({ pids: { limit: 10 } }), 'c1', host)).toThrow(
      'linux.resources.pids.limit: needs the cgroup v2 "pids" controller, but this host\'s v2 hierarchy (/sys/fs/cgroup) has only: memory',
    );
    expect(() => planCgroup(spec({ pids: { limit: 10 } }), 'c1', { ...PURE, controllers: [] })).toThrow(/has no controllers$/);
  });
  it('plans hugetlb on the hybrid host', () => {
    const plan = planCgroup(spec({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] }), 'c1', HYBRID);
    expect(plan).toMatchObject({ dir: '/sys/fs/cgroup/unified/tsrun/c1', ownedRoot: '/sys/fs/cgroup/unified/tsrun', controllers: ['hugetlb'] });
    expect(plan.writes.map((w) => w.file)).toEqual(['hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max']);
    expect(plan.deviceRules).toBeNull();
  });
  it('refuses a huge page size the host does not offer, before anything is made (its .max file would be missing)', () => {
    const host = { ...HYBRID, hugepageSizes: ['2MB', '1GB'] };
    expect(() => planCgroup(spec({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }, { pageSize: '3MB', limit: 1 }] }), 'c1', host)).toThrow(
      'linux.resources.hugepageLimits[1].pageSize: this host has no 3MB huge pages (it has 2MB, 1GB)',
    );
    expect(() => planCgroup(spec({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), 'c1', { ...host, hugepageSizes: [] })).toThrow(/\(it has none\)$/);
    expect(planCgroup(spec({ hugepageLimits: [{ pageSize: '1GB', limit: 1 }] }), 'c1', host).writes[0]?.file).toBe('hugetlb.1GB.max');
  });
  it('names huge page sizes as hugetlb does', () => {
    expect(['hugepages-64kB', 'hugepages-2048kB', 'hugepages-32768kB', 'hugepages-1048576kB', 'hugepages-16777216kB', 'other'].map(hugetlbSizeName))
      .toEqual(['64KB', '2MB', '32MB', '1GB', '16GB', undefined]);
  });
  it('lists needed controllers in kernel order and writes in converter order, unified last', () => {
    const plan = planCgroup(
      spec({ unified: { 'memory.high': '1G' }, pids: { limit: 5 }, memory: { limit: 2 * 1024 ** 3 }, cpu: { cpus: '0', quota: 1000 } }),
      'c1',
      PURE,
    );
    expect(plan.controllers).toEqual(['cpuset', 'cpu', 'memory', 'pids']);
    expect(plan.writes.map((w) => w.file)).toEqual(['cpuset.cpus', 'cpu.max', 'memory.max', 'pids.max', 'memory.high']);
  });
  it('needs no controller for an empty resources object or core unified limits', () => {
    const plan = planCgroup(spec({ unified: { 'cgroup.max.descendants': '5' } }), 'c1', { ...HYBRID, controllers: [] });
    expect(plan.controllers).toEqual([]);
    expect(planCgroup({ ociVersion: '1.2.0' }, 'c1', HYBRID).writes).toEqual([]);
  });
  it('reports fields v2 has no file for as warnings', () => {
    expect(planCgroup(spec({ memory: { swappiness: 0, kernel: 1 } }), 'c1', PURE).warnings).toEqual([
      'linux.resources.memory.kernel ignored: kernel memory is part of memory.max on cgroup v2',
      'linux.resources.memory.swappiness ignored: cgroup v2 has no per-cgroup swappiness',
    ]);
  });
  it('turns runc spec\'s deny-all into rules: config, then the defaults; linux.devices adds no rule (as runc)', () => {
    const plan = planCgroup(
      spec({ devices: [{ allow: false, access: 'rwm' }] }, { devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }] }),
      'c1',
      HYBRID,
    );
    expect(plan.deviceRules?.slice(0, 1)).toEqual([{ allow: false, type: 'a', major: null, minor: null, access: 'rwm' }]);
    expect(plan.deviceRules?.slice(1)).toEqual(DEFAULT_ALLOWED_DEVICES.map((d) => d.rule));
  });
  it('refuses bad device rules with the field', () => {
    expect(() => planCgroup(spec({ devices: [{ allow: true, type: 'c', access: 'rx' }] }), 'c1', HYBRID)).toThrow(
      'linux.resources.devices[0].access: may only contain r, w and m, got "rx"',
    );
  });
});
