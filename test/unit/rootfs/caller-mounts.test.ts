import { describe, expect, it } from 'vitest';
import { parseMountInfo } from '../../../src/host/mountinfo.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import { containerPlan } from '../../../src/plan/container.js';
import { isUnder, mountsInCallerNamespace, mountsToRemove, mountsUnder, newMounts, unmountOrder } from '../../../src/rootfs/caller-mounts.js';

const R = '/b/rootfs';
// A caller's table after a plan ran under R: 30 is the user's own mount, 40-47 are tsrun's (46 is a
// mask stacked on the proc bind 45, and 47 a mount that went over the user's mount).
const TABLE = parseMountInfo(`
1 0 8:1 / / rw - ext4 /dev/sda1 rw
30 1 0:30 / /b/rootfs/mnt/user rw - tmpfs usermnt rw
31 1 0:31 / /b/rootfs2/proc rw - proc proc rw
40 1 0:40 / /b/rootfs/proc rw - proc proc rw
41 1 0:41 / /b/rootfs/dev rw - tmpfs tmpfs rw
42 41 0:42 / /b/rootfs/dev/pts rw - devpts devpts rw
43 1 0:43 / /b/rootfs/sys ro - sysfs sysfs ro
44 40 0:40 /sys /b/rootfs/proc/sys ro - proc proc rw
45 40 0:40 /uptime /b/rootfs/proc/uptime ro - proc proc rw
46 45 0:5 /null /b/rootfs/proc/uptime ro - tmpfs tmpfs rw
47 30 0:47 / /b/rootfs/mnt/user/x rw - tmpfs t rw
`);
const BEFORE = [{ id: 30, path: '/b/rootfs/mnt/user' }];
const ref = (id: number): { id: number; path: string } => ({ id, path: TABLE.find((e) => e.mountId === id)!.mountPoint });

describe('caller mounts: what is under the rootfs', () => {
  it('takes the rootfs and what is below it, not a sibling that shares its prefix', () => {
    expect(isUnder('/b/rootfs', R)).toBe(true);
    expect(isUnder('/b/rootfs/proc', R)).toBe(true);
    expect(isUnder('/b/rootfs2/proc', R)).toBe(false);
    expect(mountsUnder(TABLE, R).map((m) => m.id)).toEqual([30, 40, 41, 42, 43, 44, 45, 46, 47]);
  });

  it('counts as new only an id+path pair the earlier snapshot lacks (an id reused elsewhere is new)', () => {
    const after = mountsUnder(TABLE, R);
    expect(newMounts(BEFORE, after).map((m) => m.id)).toEqual([40, 41, 42, 43, 44, 45, 46, 47]);
    expect(newMounts([{ id: 40, path: '/b/rootfs/old' }], [ref(40)])).toEqual([ref(40)]);
  });
});

describe('caller mounts: the order of unmounting', () => {
  it('unmounts children before parents, a stacked mount before the one it covers', () => {
    const order = unmountOrder(newMounts(BEFORE, mountsUnder(TABLE, R)), TABLE).map((m) => m.id);
    expect(order).toHaveLength(8);
    const before = (a: number, b: number): boolean => order.indexOf(a) < order.indexOf(b);
    expect(before(42, 41)).toBe(true);
    expect(before(44, 40) && before(45, 40) && before(46, 45)).toBe(true);
    // 47 sits on the user's mount: it goes, the user's mount stays.
    expect(order).toContain(47);
    expect(order).not.toContain(30);
  });

  it('skips recorded mounts that are gone, and one whose id now names another path', () => {
    const recorded = [ref(41), ref(42), { id: 99, path: '/b/rootfs/gone' }, { id: 43, path: '/b/rootfs/elsewhere' }];
    expect(unmountOrder(recorded, TABLE).map((m) => m.id)).toEqual([42, 41]);
  });

  it('removes the recorded mounts only, or every new one when set-up never finished', () => {
    const recorded = { rootfs: R, before: BEFORE, created: [ref(40), ref(44)] };
    expect(mountsToRemove(recorded, TABLE).map((m) => m.id)).toEqual([44, 40]);
    const unfinished = { rootfs: R, before: BEFORE };
    expect(mountsToRemove(unfinished, TABLE).map((m) => m.id).sort()).toEqual([40, 41, 42, 43, 44, 45, 46, 47]);
  });
});

describe('caller mounts: when they are tracked', () => {
  const ctx = { bundleDir: '/b', rootfs: R, runningAsRoot: true, host: { kind: (): 'dir' => 'dir' as const } };
  it('only when the plan mounts something and the container has no mount namespace', () => {
    const spec = defaultSpec();
    spec.process!.terminal = false;
    expect(mountsInCallerNamespace(containerPlan(spec, ctx))).toBe(false);
    spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'mount');
    spec.root!.readonly = false;
    expect(mountsInCallerNamespace(containerPlan(spec, ctx))).toBe(true);
    spec.mounts = [];
    delete spec.linux!.maskedPaths;
    delete spec.linux!.readonlyPaths;
    expect(mountsInCallerNamespace(containerPlan(spec, ctx))).toBe(false);
  });
});
