import { describe, expect, it } from 'vitest';
import { fixForMissing, parseProcCgroups, whyMissing } from '../../../src/check/cgroup-controllers.js';
import { probeCgroups } from '../../../src/check/cgroups.js';
import { HYBRID_V2_CONTROLLERS, MOUNTINFO_HYBRID, MOUNTINFO_V2, THIS_HOST_PROC_CGROUPS } from './samples.js';

const thisHost = parseProcCgroups(THIS_HOST_PROC_CGROUPS);
/** A pure-v2 host booted with cgroup_disable=memory, and a kernel without the pids controller. */
const v2Host = parseProcCgroups(
  THIS_HOST_PROC_CGROUPS.replace(/\t[1-8]\t/g, '\t0\t').replace('memory\t0\t14\t1', 'memory\t0\t1\t0').replace(/pids.*\n/, ''),
);

describe('parseProcCgroups', () => {
  it('reads hierarchy and enabled per controller, skipping the header', () => {
    expect(thisHost.get('memory')).toEqual({ hierarchy: 4, enabled: true });
    expect(thisHost.get('hugetlb')).toEqual({ hierarchy: 0, enabled: true });
    expect(thisHost.has('#subsys_name')).toBe(false);
  });
});

describe('whyMissing', () => {
  it('on this host: memory and io (blkio in v1) are held by v1', () => {
    expect(whyMissing('memory', ['memory'], thisHost)).toBe('held-by-v1');
    expect(whyMissing('io', [], thisHost)).toBe('held-by-v1');
  });

  it('tells a controller disabled at boot from one not built and one not delegated', () => {
    expect(whyMissing('memory', [], v2Host)).toBe('disabled-at-boot');
    expect(whyMissing('pids', [], v2Host)).toBe('not-in-kernel');
    expect(whyMissing('cpu', [], v2Host)).toBe('not-delegated');
    expect(whyMissing('cpu', [], undefined)).toBe('not-delegated');
  });
});

describe('fixForMissing', () => {
  it('gives one fix per reason', () => {
    expect(fixForMissing(['memory', 'pids', 'cpu'], [], v2Host)).toBe(
      'memory was disabled at boot: remove cgroup_disable=memory from the kernel command line; ' +
      'this kernel was built without CONFIG_CGROUP_PIDS; ' +
      'cpu is not enabled for this subtree: add +cpu to the parent\'s cgroup.subtree_control (systemd: Delegate=yes)',
    );
  });

  it('in a report: this host\'s fix names v1 and the boot option', () => {
    const p = probeCgroups({ mountinfo: MOUNTINFO_HYBRID, v2Controllers: HYBRID_V2_CONTROLLERS, procCgroups: THIS_HOST_PROC_CGROUPS, kernelRelease: '6.18.44' });
    expect(p.items.find((i) => i.name === 'v2 controllers')?.fix).toMatch(
      /cannot be applied here .*; memory, cpu, cpuset, pids, io are held by cgroup v1: boot with systemd\.unified_cgroup_hierarchy=1/,
    );
  });

  it('in a report: a pure-v2 container that was delegated only some controllers', () => {
    const p = probeCgroups({ mountinfo: MOUNTINFO_V2, v2Controllers: 'cpu pids\n', procCgroups: THIS_HOST_PROC_CGROUPS.replace(/\t[1-8]\t/g, '\t0\t'), kernelRelease: '6.1.0' });
    expect(p.items.find((i) => i.name === 'v2 controllers')?.fix).toMatch(/memory, cpuset, io, hugetlb are not enabled for this subtree: add \+memory \+cpuset \+io \+hugetlb/);
  });
});
