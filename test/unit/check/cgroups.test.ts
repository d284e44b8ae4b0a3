import { describe, expect, it } from 'vitest';
import { findCgroupLayout, parseControllerList, v1Controllers } from '../../../src/check/cgroup-layout.js';
import { probeCgroups } from '../../../src/check/cgroups.js';
import { parseMountInfo } from '../../../src/host/mountinfo.js';
import type { CheckItem } from '../../../src/check/report.js';
import {
  HYBRID_V2_CONTROLLERS, MOUNTINFO_HYBRID, MOUNTINFO_NO_CGROUPS, MOUNTINFO_SYSTEMD_HYBRID, MOUNTINFO_V1,
  MOUNTINFO_V2, MOUNTINFO_V2_BIND_FIRST, V2_CONTROLLERS,
} from './samples.js';

const byName = (items: CheckItem[], name: string): CheckItem | undefined => items.find((i) => i.name === name);

describe('findCgroupLayout', () => {
  it('sees this host as hybrid, with cgroup2 at /sys/fs/cgroup/unified', () => {
    const info = findCgroupLayout(parseMountInfo(MOUNTINFO_HYBRID));
    expect(info.layout).toBe('hybrid');
    expect(info.v2MountPoint).toBe('/sys/fs/cgroup/unified');
    expect(v1Controllers(info)).toEqual(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids']);
    expect(info.v1Hierarchies.find((h) => h.name === 'systemd')?.controllers).toEqual([]);
  });

  it('sees a pure v2 host', () => {
    expect(findCgroupLayout(parseMountInfo(MOUNTINFO_V2))).toEqual({ layout: 'v2', v2MountPoint: '/sys/fs/cgroup', v1Hierarchies: [] });
  });

  it('sees a pure v1 host and its co-mounted controllers, ignoring flags like xattr and release_agent', () => {
    const info = findCgroupLayout(parseMountInfo(MOUNTINFO_V1));
    expect(info.layout).toBe('v1');
    expect(info.v2MountPoint).toBeUndefined();
    expect(v1Controllers(info)).toEqual(['cpu', 'cpuacct', 'memory', 'net_cls', 'net_prio', 'pids', 'blkio']);
  });

  it('reports none when no cgroup filesystem is mounted', () => {
    expect(findCgroupLayout(parseMountInfo(MOUNTINFO_NO_CGROUPS)).layout).toBe('none');
  });

  it('prefers a mount of the whole hierarchy over an earlier bind mount of a subtree', () => {
    expect(findCgroupLayout(parseMountInfo(MOUNTINFO_V2_BIND_FIRST)).v2MountPoint).toBe('/run/my cgroups');
  });
});

describe('parseControllerList', () => {
  it('splits on whitespace and ignores the trailing newline', () => {
    expect(parseControllerList('cpuset cpu io\n')).toEqual(['cpuset', 'cpu', 'io']);
    expect(parseControllerList('\n')).toEqual([]);
  });
});

describe('probeCgroups', () => {
  it('on this hybrid host: warns that v2 has only hugetlb and names what v1 holds, with the boot fix', () => {
    const p = probeCgroups({ mountinfo: MOUNTINFO_HYBRID, v2Controllers: HYBRID_V2_CONTROLLERS, kernelRelease: '6.18.44' });
    expect(p.v2Controllers).toEqual(['hugetlb']);
    expect(byName(p.items, 'layout')).toMatchObject({ status: 'warn', facts: { layout: 'hybrid', v2MountPoint: '/sys/fs/cgroup/unified' } });
    const v2 = byName(p.items, 'v2 controllers');
    expect(v2).toMatchObject({ status: 'warn', facts: { controllers: ['hugetlb'], missing: ['memory', 'cpu', 'cpuset', 'pids', 'io'] } });
    expect(v2?.fix).toMatch(/limits for memory\/cpu\/cpuset\/pids\/io cannot be applied here/);
    expect(v2?.fix).toMatch(/systemd\.unified_cgroup_hierarchy=1.*make test-vm/);
    expect(byName(p.items, 'v1 controllers')?.detail).toMatch(/^cpu, cpuacct, cpuset, memory, devices, freezer, blkio, pids \(under \/sys\/fs\/cgroup\/\)/);
    expect(byName(p.items, 'device rules')?.status).toBe('ok');
  });

  it('on a pure v2 host: everything ok, no v1 item', () => {
    const p = probeCgroups({ mountinfo: MOUNTINFO_V2, v2Controllers: V2_CONTROLLERS, kernelRelease: '6.1.0-13-amd64' });
    expect(p.items.filter((i) => i.status !== 'ok')).toEqual([]);
    expect(byName(p.items, 'v1 controllers')).toBeUndefined();
  });

  it('on systemd\'s named-only hybrid: the layout is fine because v1 holds no controller', () => {
    const p = probeCgroups({ mountinfo: MOUNTINFO_SYSTEMD_HYBRID, v2Controllers: V2_CONTROLLERS, kernelRelease: '5.10.0' });
    expect(byName(p.items, 'layout')).toMatchObject({ status: 'ok', facts: { layout: 'hybrid' } });
    expect(byName(p.items, 'v1 controllers')).toBeUndefined();
  });

  it('on a pure v1 host: warns, and device rules are missing because they need a v2 cgroup', () => {
    const p = probeCgroups({ mountinfo: MOUNTINFO_V1, kernelRelease: '3.10.0-1160.el7.x86_64' });
    expect(byName(p.items, 'layout')).toMatchObject({ status: 'warn' });
    expect(byName(p.items, 'v2 controllers')).toBeUndefined();
    expect(byName(p.items, 'device rules')?.status).toBe('missing');
    expect(byName(p.items, 'freeze')).toBeUndefined();
  });

  it('with no cgroups at all: layout missing, with a mount command as the fix', () => {
    const p = probeCgroups({ mountinfo: MOUNTINFO_NO_CGROUPS, kernelRelease: '6.1.0' });
    expect(byName(p.items, 'layout')).toMatchObject({ status: 'missing', fix: expect.stringContaining('mount -t cgroup2') });
  });

  it('warns when cgroup.controllers cannot be read', () => {
    const p = probeCgroups({ mountinfo: MOUNTINFO_V2, kernelRelease: '6.1.0' });
    expect(byName(p.items, 'v2 controllers')).toMatchObject({ status: 'warn', detail: expect.stringContaining('/sys/fs/cgroup/cgroup.controllers') });
  });

  it('ties cgroup.freeze and cgroup.kill to their kernel versions', () => {
    const old = probeCgroups({ mountinfo: MOUNTINFO_V2, v2Controllers: V2_CONTROLLERS, kernelRelease: '5.4.0-150-generic' });
    expect(byName(old.items, 'freeze')?.status).toBe('ok');
    expect(byName(old.items, 'kill')?.status).toBe('warn');
    const older = probeCgroups({ mountinfo: MOUNTINFO_V2, v2Controllers: V2_CONTROLLERS, kernelRelease: '4.19.0' });
    expect(byName(older.items, 'freeze')?.status).toBe('missing');
  });
});
