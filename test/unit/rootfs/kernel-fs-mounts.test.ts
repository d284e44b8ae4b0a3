// Which mount steps the planner marks for the shim's symlink and procfs checks, and the recursive
// mount attributes (the attacks themselves are in test/integration/security/).
import { describe, expect, it } from 'vitest';
import { MS } from '../../../src/abi/linux.js';
import { containerPlan } from '../../../src/plan/container.js';
import { parseMountOptions } from '../../../src/rootfs/mount-options.js';
import type { Step } from '../../../src/abi/steps.js';
import { planContext, planSpec } from '../../helpers/plan-context.js';

type MountStep = Extract<Step, { op: 'mount' }>;
const mountsOf = (steps: Step[], field: string): MountStep[] => steps.filter((s): s is MountStep => s.op === 'mount' && s.field === field);

describe('proc and sysfs mounts', () => {
  it('are reached without symlinks; other mounts follow the rootfs\'s symlinks inside it', () => {
    const spec = planSpec();
    const plan = containerPlan(spec, planContext);
    const field = (type: string): string => `mounts[${spec.mounts!.findIndex((m) => m.type === type)}]`;
    expect(mountsOf(plan.steps, field('proc'))[0]!.noSymlinks).toBe(true);
    expect(mountsOf(plan.steps, field('sysfs'))[0]!.noSymlinks).toBe(true);
    expect(mountsOf(plan.steps, field('tmpfs'))[0]!.noSymlinks).toBeUndefined();
  });

  it('sysfs bound from the host (a user namespace without a network namespace) is marked too', () => {
    const spec = planSpec((s) => {
      s.linux!.namespaces = [{ type: 'user' }, { type: 'mount' }, { type: 'pid' }, { type: 'uts' }];
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    const plan = containerPlan(spec, planContext);
    const sysfs = mountsOf(plan.steps, `mounts[${spec.mounts!.findIndex((m) => m.type === 'sysfs')}]`)[0]!;
    expect(sysfs.source).toBe('/sys');
    expect(sysfs.noSymlinks).toBe(true);
  });
});

describe('mounts that must not land on procfs', () => {
  it('every config mount whose destination is not under /proc; /proc itself and files below it are the config\'s choice', () => {
    const spec = planSpec((s) => {
      s.mounts = [...s.mounts!, { destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] },
        { destination: '/proc/uptime', type: 'bind', source: '/srv/up.conf', options: ['bind'] },
        { destination: '/proc/../data2', type: 'bind', source: '/srv', options: ['rbind'] }];
    });
    const plan = containerPlan(spec, planContext);
    const first = (dest: string): MountStep => mountsOf(plan.steps, `mounts[${spec.mounts!.findIndex((m) => m.destination === dest)}]`)[0]!;
    expect(first('/data').notOnProcfs).toBe(true);
    expect(first('/proc/../data2').notOnProcfs).toBe(true);
    expect(first('/dev').notOnProcfs).toBe(true);
    expect(first('/proc').notOnProcfs).toBeUndefined();
    expect(first('/proc/uptime').notOnProcfs).toBeUndefined();
  });
});

describe('recursive mount attributes (runtime-spec 1.1)', () => {
  it('rro, rnosuid, rnodev and rnoexec are flags of the remount; rrw and idmap are still ignored', () => {
    expect(parseMountOptions(['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec', 'rrw', 'idmap'])).toEqual({
      flags: MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, propagation: 0, bind: true, recursive: true, data: [],
    });
  });
});
