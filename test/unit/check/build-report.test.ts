import { describe, expect, it } from 'vitest';
import { buildReport } from '../../../src/check/build-report.js';
import { CHECK_AREAS } from '../../../src/check/report.js';
import { thisHostFacts } from './host-facts-samples.js';
import { FILESYSTEMS_NO_OVERLAY, MOUNTINFO_NO_CGROUPS, MOUNTINFO_V1, ROOTLESS_UID_MAP, STATUS_DOCKER_ROOT, STATUS_NO_SECCOMP, STATUS_USER } from './samples.js';

describe('buildReport', () => {
  it('on this host: can run containers, with the hybrid-cgroup and CAP_SYS_RESOURCE warnings', () => {
    const r = buildReport(thisHostFacts());
    expect(r.canRunContainers).toBe(true);
    expect(r.blockers).toEqual([]);
    expect(r.kernel).toBe('6.18.44-fc-v769');
    expect(r.items.filter((i) => i.status !== 'ok').map((i) => `${i.area}/${i.name}`)).toEqual([
      'cgroups/layout', 'cgroups/v2 controllers', 'cgroups/clients', 'cgroups/v1 controllers', 'privileges/CapEff', 'privileges/CapBnd',
    ]);
  });

  it('lists items in area order and gives every warn/missing item a fix', () => {
    const r = buildReport(thisHostFacts());
    const order = r.items.map((i) => CHECK_AREAS.indexOf(i.area));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (const i of r.items.filter((x) => x.status !== 'ok')) expect(i.fix, `${i.area}/${i.name}`).toBeTruthy();
  });

  it('on a host where much is missing, every warn/missing item still says what it means and how to fix it', () => {
    const worst = [
      thisHostFacts({ kernelRelease: '4.19.0', nsEntries: ['mnt', 'pid'], mountinfo: MOUNTINFO_V1, v2Controllers: undefined, filesystems: '',
        status: STATUS_NO_SECCOMP, seccompActions: undefined, ptmx: undefined, euid: 1000, uidMap: ROOTLESS_UID_MAP }),
      thisHostFacts({ kernelRelease: '5.4.0', filesystems: FILESYSTEMS_NO_OVERLAY, mountinfo: MOUNTINFO_NO_CGROUPS, status: STATUS_USER,
        euid: 1000, maxNamespaces: { user: '0', net: '0' } }),
    ];
    for (const facts of worst) {
      const r = buildReport(facts);
      expect(r.items.filter((i) => i.status === 'missing').length).toBeGreaterThan(2);
      for (const i of r.items.filter((x) => x.status !== 'ok')) expect(i.fix, `${i.area}/${i.name}`).toBeTruthy();
    }
  });

  it('no cgroups at all is a warning, not fatal', () => {
    const r = buildReport(thisHostFacts({ mountinfo: MOUNTINFO_NO_CGROUPS, v2Controllers: undefined }));
    expect(r.canRunContainers).toBe(true);
  });

  it('without mount or PID namespaces nothing can run', () => {
    const r = buildReport(thisHostFacts({ nsEntries: ['net', 'user', 'uts', 'ipc'] }));
    expect(r.canRunContainers).toBe(false);
    expect(r.blockers).toHaveLength(2);
    expect(r.blockers[0]).toMatch(/mount namespaces/);
  });

  it('a max_pid_namespaces of 0 is as fatal as no PID namespace', () => {
    const r = buildReport(thisHostFacts({ maxNamespaces: { pid: '0' } }));
    expect(r.blockers).toEqual([expect.stringMatching(/PID namespaces/)]);
  });

  it('an ordinary user can run containers through user namespaces', () => {
    expect(buildReport(thisHostFacts({ euid: 1000, status: STATUS_USER })).canRunContainers).toBe(true);
  });

  it('an ordinary user without unprivileged user namespaces cannot', () => {
    const r = buildReport(thisHostFacts({ euid: 1000, status: STATUS_USER, unprivilegedUsernsClone: '0' }));
    expect(r.canRunContainers).toBe(false);
    expect(r.blockers).toEqual([expect.stringMatching(/^not root/)]);
  });

  it('root without CAP_SYS_ADMIN counts as unprivileged', () => {
    expect(buildReport(thisHostFacts({ status: STATUS_DOCKER_ROOT, maxNamespaces: { user: '0' } })).canRunContainers).toBe(false);
    expect(buildReport(thisHostFacts({ status: STATUS_DOCKER_ROOT })).canRunContainers).toBe(true);
  });
});
