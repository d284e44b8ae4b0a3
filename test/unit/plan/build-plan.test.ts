import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import type { Spec } from '../../../src/oci/types.js';
import { containerPlan, type ContainerPlanContext } from '../../../src/plan/container.js';
import { describeStep } from '../../../src/abi/describe-step.js';
import type { Step } from '../../../src/abi/steps.js';
import { MS } from '../../../src/abi/linux.js';
import { stepError } from '../../../src/process/parent.js';
import { planContext, planSpec } from '../../helpers/plan-context.js';

const ctx: ContainerPlanContext = planContext;
const spec = planSpec;
const titles = (steps: Step[]): string[] => steps.map(describeStep);
const indexOf = (steps: Step[], pred: (s: Step) => boolean): number => steps.findIndex(pred);

describe('containerPlan: namespaces', () => {
  it('creates the namespaces of the default spec with one clone', () => {
    const plan = containerPlan(spec(), ctx);
    expect(plan.namespaces.map((n) => n.type).sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'uts']);
    expect(plan.cloneFlags).toBe(0x20000 | 0x04000000 | 0x08000000 | 0x20000000 | 0x40000000);
    expect(plan.idMaps).toBeUndefined();
  });

  it('joins namespaces that have a path, the user namespace first', () => {
    const plan = containerPlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'cgroup', path: '/proc/9/ns/cgroup' }, { type: 'user', path: '/proc/9/ns/user' });
    }), ctx);
    const joins = plan.namespaces.filter((n) => n.action === 'join');
    expect(joins.map((n) => n.type)).toEqual(['user', 'cgroup']);
    expect(plan.cloneFlags & 0x02000000).toBe(0);
  });

  it('refuses a hostname without a new uts namespace, naming the field', () => {
    expect(() => containerPlan(spec((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }), ctx))
      .toThrow(ConfigError);
    try {
      containerPlan(spec((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }), ctx);
    } catch (e) { expect((e as ConfigError).details.field).toBe('hostname'); }
  });

  it('writes id maps from the parent for a new user namespace, allowing setgroups as root', () => {
    const plan = containerPlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }), ctx);
    expect(plan.idMaps).toEqual({ uid: [{ containerID: 0, hostID: 100000, size: 65536 }], gid: [{ containerID: 0, hostID: 100000, size: 65536 }], setgroups: 'allow', writer: 'privileged' });
    expect(plan.steps.some((s) => s.op === 'setgroups')).toBe(true);
    // No mknod in a user namespace: devices are bind mounts of the host's nodes.
    expect(plan.steps.some((s) => s.op === 'mknod')).toBe(false);
    expect(titles(plan.steps)).toContain('mount /dev/null on /dev/null (bind)');
  });

  it('a user mapping ids beyond its own: newuidmap writes them, setgroups stays allowed', () => {
    const plan = containerPlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }), { ...ctx, runningAsRoot: false, caller: { uid: 1000, gid: 1000 } });
    expect(plan.idMaps?.writer).toBe('helper');
    expect(plan.idMaps?.setgroups).toBe('allow');
    const other = containerPlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 1001, size: 1 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }), { ...ctx, runningAsRoot: false, caller: { uid: 1000, gid: 1000 } });
    expect(other.idMaps?.writer).toBe('helper');
  });

  it('denies setgroups (and skips the setgroups step) for an unprivileged caller', () => {
    const plan = containerPlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }), { ...ctx, runningAsRoot: false, caller: { uid: 1000, gid: 1000 } });
    expect(plan.idMaps?.setgroups).toBe('deny');
    expect(plan.idMaps?.writer).toBe('own-id');
    expect(plan.steps.some((s) => s.op === 'setgroups')).toBe(false);
  });
});

describe('containerPlan: no mount namespace (mounts go into the caller\'s mount table)', () => {
  const noMountNs = (s: Spec): void => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    s.root!.readonly = false;
  };

  it('keeps every mount, device and lock-down step, resolved inside the rootfs', () => {
    const steps = containerPlan(spec(noMountNs), ctx).steps;
    const withNs = containerPlan(spec((s) => { s.root!.readonly = false; }), ctx).steps;
    const configured = (list: Step[]): string[] => list.filter((s) => s.field?.startsWith('mounts[') || s.field?.startsWith('linux.')).map(describeStep);
    expect(configured(steps)).toEqual(configured(withNs));
    expect(steps.filter((s) => s.op === 'mount' && s.field?.startsWith('mounts[')).every((s) => s.op === 'mount' && s.inRoot)).toBe(true);
    expect(steps.find((s) => s.op === 'mount' && s.target === '/proc')).toMatchObject({ fstype: 'proc', field: 'mounts[0]' });
    expect(steps.filter((s) => s.op === 'mask')).toHaveLength(spec().linux!.maskedPaths!.length);
  });

  it('never touches / nor binds the rootfs onto itself: it opens the rootfs, mounts, then chroots', () => {
    const steps = containerPlan(spec(noMountNs), ctx).steps;
    expect(steps.some((s) => s.op === 'mount' && (s.target === '/' || s.target === ctx.rootfs) && !s.inRoot)).toBe(false);
    const open = indexOf(steps, (s) => s.op === 'openRoot');
    expect(steps[open]?.why).toMatch(/caller's mount table/);
    expect(open).toBeLessThan(indexOf(steps, (s) => s.op === 'mount'));
    expect(steps.some((s) => s.op === 'pivotRoot' || s.op === 'umount')).toBe(false);
    const chroot = indexOf(steps, (s) => s.op === 'chroot');
    expect(titles(steps.slice(chroot - 1, chroot + 2))).toEqual([`chdir ${ctx.rootfs}`, 'chroot .', 'chdir /']);
    const lastConfigMount = steps.findLastIndex((s) => s.op === 'mount' && s.field?.startsWith('mounts['));
    expect(lastConfigMount).toBeLessThan(chroot);
    expect(indexOf(steps, (s) => s.op === 'mask')).toBeGreaterThan(chroot);
    expect(indexOf(steps, (s) => s.field === 'linux.readonlyPaths[0]')).toBeGreaterThan(chroot);
  });

  it('chroots with --no-pivot too (MS_MOVE needs a mount namespace)', () => {
    const steps = containerPlan(spec(noMountNs), { ...ctx, noPivot: true }).steps;
    expect(steps.some((s) => s.op === 'mount' && s.flags === MS.MOVE)).toBe(false);
    expect(titles(steps)).toContain('chroot .');
  });

  it('refuses what would change mounts tsrun does not make there, naming the field', () => {
    expect(() => containerPlan(spec((s) => { noMountNs(s); s.root!.readonly = true; }), ctx)).toThrow(/^root\.readonly: needs a mount namespace/);
    expect(() => containerPlan(spec((s) => { noMountNs(s); s.linux!.rootfsPropagation = 'shared'; }), ctx)).toThrow(/^linux\.rootfsPropagation: needs a mount namespace/);
    expect(() => containerPlan(spec((s) => {
      noMountNs(s);
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }), ctx)).toThrow(/^linux\.namespaces: a new user namespace needs a new mount namespace too/);
  });

  it('plans nothing but the chroot when the config has no mounts either', () => {
    const steps = containerPlan(spec((s) => {
      noMountNs(s);
      s.mounts = [];
      delete s.linux!.maskedPaths;
      delete s.linux!.readonlyPaths;
    }), ctx).steps;
    expect(steps.some((s) => s.op === 'mount' || s.op === 'pivotRoot')).toBe(false);
    expect(titles(steps)).toContain('chroot .');
  });
});

describe('containerPlan: rootfs', () => {
  it('makes mounts private first, binds the rootfs onto itself, then opens it', () => {
    const steps = containerPlan(spec(), ctx).steps;
    const i = indexOf(steps, (s) => s.op === 'mount' && s.target === '/');
    expect(steps[i]).toMatchObject({ flags: MS.SLAVE | MS.REC });
    expect(steps[i + 1]).toMatchObject({ op: 'mount', source: ctx.rootfs, target: ctx.rootfs, flags: MS.BIND | MS.REC });
    expect(steps[i + 2]).toMatchObject({ op: 'openRoot', path: ctx.rootfs });
  });

  it('starts from a recursive slave root by default; linux.rootfsPropagation replaces it, before the config\'s mounts (as runc)', () => {
    expect(containerPlan(spec(), ctx).steps.find((s) => s.op === 'mount' && s.target === '/')).toMatchObject({ flags: MS.SLAVE | MS.REC });
    const steps = containerPlan(spec((s) => { s.linux!.rootfsPropagation = 'runbindable'; }), ctx).steps;
    const prop = indexOf(steps, (s) => s.field === 'linux.rootfsPropagation');
    expect(steps[prop]).toMatchObject({ op: 'mount', target: '/', flags: MS.UNBINDABLE | MS.REC });
    expect(steps.filter((s) => s.field === 'linux.rootfsPropagation')).toHaveLength(1);
    expect(prop).toBeLessThan(indexOf(steps, (s) => s.field === 'mounts[0]'));
  });

  it('makes the mount holding the rootfs private when it is still shared after the root propagation', () => {
    const host = (shared: boolean, mountPoint = '/bundles') => ({ ...ctx, host: { ...ctx.host, mountOf: () => ({ mountPoint, shared }) } });
    const privatized = (propagation: 'shared' | 'rshared' | 'rslave' | 'private' | undefined, h: ReturnType<typeof host>): boolean =>
      containerPlan(spec((s) => { if (propagation) s.linux!.rootfsPropagation = propagation; }), h).steps.some((s) => s.op === 'mount' && s.flags === MS.PRIVATE && s.target === h.host.mountOf().mountPoint);
    expect(privatized('rshared', host(false))).toBe(true);
    expect(privatized('shared', host(true))).toBe(true);
    expect(privatized('shared', host(false))).toBe(false);
    expect(privatized('shared', host(false, '/'))).toBe(true);
    expect(privatized('private', host(true))).toBe(true);
    expect(privatized('rslave', host(true))).toBe(false);
    expect(privatized(undefined, host(true))).toBe(false);
  });

  it('resolves config mounts inside the rootfs and creates their destinations', () => {
    const steps = containerPlan(spec(), ctx).steps;
    expect(steps.find((s) => s.op === 'mount' && s.target === '/proc')).toMatchObject({ fstype: 'proc', inRoot: true, mkdir: 'dir', field: 'mounts[0]' });
  });

  it('binds then remounts a read-only bind mount, keeping locked flags; an rbind\'s flags reach the mounts below it (MS_REC)', () => {
    const steps = containerPlan(spec((s) => {
      s.mounts!.push({ destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'nosuid'] });
      s.mounts!.push({ destination: '/data2', type: 'bind', source: '/srv/data', options: ['bind', 'ro'] });
    }), ctx).steps;
    const i = indexOf(steps, (s) => s.op === 'mount' && s.target === '/data');
    expect(steps[i]).toMatchObject({ source: '/srv/data', flags: MS.BIND | MS.REC, mkdir: 'dir' });
    expect(steps[i + 1]).toMatchObject({ target: '/data', flags: MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.REC, keepLocked: true });
    const j = indexOf(steps, (s) => s.op === 'mount' && s.target === '/data2');
    expect(steps[j + 1]).toMatchObject({ target: '/data2', flags: MS.REMOUNT | MS.BIND | MS.RDONLY, keepLocked: true });
  });

  it('resolves a relative bind source against the bundle and creates a file for a file source', () => {
    const steps = containerPlan(spec((s) => { s.mounts!.push({ destination: '/etc/app.conf', type: 'bind', source: 'files/app.conf', options: ['bind'] }); }), ctx).steps;
    expect(steps.find((s) => s.op === 'mount' && s.target === '/etc/app.conf')).toMatchObject({ source: '/bundles/b/files/app.conf', mkdir: 'file' });
  });

  it('names the field of a bind source that does not exist', () => {
    expect(() => containerPlan(spec((s) => { s.mounts!.push({ destination: '/x', type: 'bind', source: '/missing/dir', options: ['bind'] }); }), ctx))
      .toThrow(/^mounts\[7\]\.source: \/missing\/dir does not exist/);
  });

  it('binds the host cgroup2 mount for type "cgroup" without a cgroup namespace, mounts cgroup2 with one', () => {
    const without = containerPlan(spec(), ctx).steps.find((s) => s.op === 'mount' && s.target === '/sys/fs/cgroup');
    expect(without).toMatchObject({ source: '/sys/fs/cgroup/unified', flags: MS.BIND, fstype: '' });
    const withNs = containerPlan(spec((s) => { s.linux!.namespaces!.push({ type: 'cgroup' }); }), ctx).steps.find((s) => s.op === 'mount' && s.target === '/sys/fs/cgroup');
    expect(withNs).toMatchObject({ fstype: 'cgroup2' });
  });

  it('binds /sys instead of mounting sysfs in a user namespace without a network namespace', () => {
    const steps = containerPlan(spec((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
      s.linux!.namespaces.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }), ctx).steps;
    expect(steps.find((s) => s.op === 'mount' && s.target === '/sys')).toMatchObject({ source: '/sys', flags: MS.BIND | MS.REC });
  });

  it('creates default devices and lets linux.devices override one', () => {
    const steps = containerPlan(spec((s) => { s.linux!.devices = [{ type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o600 }, { type: 'c', path: '/dev/loop-control', major: 10, minor: 237 }]; }), ctx).steps;
    const nulls = steps.filter((s) => s.op === 'mknod' && s.path === '/dev/null');
    expect(nulls).toHaveLength(1);
    expect(nulls[0]).toMatchObject({ mode: 0o600, field: 'linux.devices[0]' });
    expect(titles(steps)).toContain('mknod /dev/loop-control c 10:237 0666');
    expect(titles(steps)).toContain('symlink /dev/ptmx -> pts/ptmx');
    expect(titles(steps)).toContain('symlink /dev/fd -> /proc/self/fd');
  });

  it('pivots after every mount and locks down after the pivot', () => {
    const steps = containerPlan(spec((s) => { s.root!.readonly = true; s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' }; }), ctx).steps;
    const pivot = indexOf(steps, (s) => s.op === 'pivotRoot');
    const lastMount = steps.map((s, i) => (s.op === 'mount' && s.inRoot ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(lastMount).toBeLessThan(pivot);
    expect(titles(steps.slice(pivot - 2, pivot))).toEqual(['open / and keep it (slot 1)', `chdir ${ctx.rootfs}`]);
    expect(titles(steps.slice(pivot + 1, pivot + 5))).toEqual(['fchdir to the fd kept in slot 1, and close it', 'mount (flags) on . (rec,slave)', 'umount2 . (MNT_DETACH)', 'chdir /']);
    const mask = indexOf(steps, (s) => s.op === 'mask');
    const sysctl = indexOf(steps, (s) => s.op === 'writeFile' && s.path === '/proc/sys/net/ipv4/ip_forward');
    const ro = indexOf(steps, (s) => s.field === 'root.readonly');
    expect(Math.min(mask, sysctl, ro)).toBeGreaterThan(pivot);
    expect(steps[mask]).toMatchObject({ field: 'linux.maskedPaths[0]' });
  });
});

describe('containerPlan: runc options', () => {
  it('--no-pivot moves the rootfs over / and chroots instead of pivot_root', () => {
    const steps = containerPlan(spec(), { ...ctx, noPivot: true }).steps;
    expect(steps.some((s) => s.op === 'pivotRoot')).toBe(false);
    const move = indexOf(steps, (s) => s.op === 'mount' && s.flags === MS.MOVE);
    expect(steps[move]).toMatchObject({ source: '.', target: '/' });
    expect(steps[move + 1]).toMatchObject({ op: 'chroot', path: '.' });
  });
  it('joins a new session keyring when asked (runc\'s default) once the root is locked down, none otherwise', () => {
    const steps = containerPlan(spec(), { ...ctx, newKeyring: 'c1' }).steps;
    const keyring = indexOf(steps, (s) => s.op === 'newKeyring');
    expect(steps[keyring]).toMatchObject({ op: 'newKeyring', name: 'c1' });
    // After pivot_root and the masks, before the process's own settings (its name is the id: plan/phases.ts, AHEAD).
    expect(keyring).toBeGreaterThan(steps.findLastIndex((s) => s.op === 'mask' || s.op === 'pivotRoot'));
    expect(keyring).toBeLessThan(indexOf(steps, (s) => s.op === 'bounding'));
    expect(containerPlan(spec(), ctx).steps.some((s) => s.op === 'newKeyring')).toBe(false);
  });
});

describe('containerPlan: process', () => {
  it('drops privileges in the only order that works and execs last', () => {
    const steps = containerPlan(spec((s) => { s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5] }; }), ctx).steps;
    const order = ['bounding', 'setgroups', 'setresgid', 'setresuid', 'capset', 'exec'].map((op) => indexOf(steps, (s) => s.op === op));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(steps.at(-1)).toMatchObject({ op: 'exec', args: ['sh'] });
    expect(steps.find((s) => s.op === 'setgroups')).toMatchObject({ gids: [5] });
    const chdir = steps.findLastIndex((s) => s.op === 'chdir');
    expect(chdir).toBeGreaterThan(indexOf(steps, (s) => s.op === 'setresuid'));
  });

  it('raises only the ambient capabilities the kernel allows, and says which it left out', () => {
    const amb = containerPlan(spec((s) => { s.process!.capabilities!.inheritable = ['CAP_KILL']; }), ctx).steps.find((s) => s.op === 'ambient');
    expect(amb).toMatchObject({ names: ['CAP_KILL'] });
    expect(amb?.why).toMatch(/not raised .*CAP_NET_BIND_SERVICE/);
  });

  it('keeps every capability when process.capabilities is absent (as runc)', () => {
    const steps = containerPlan(spec((s) => { delete s.process!.capabilities; }), ctx).steps;
    expect(steps.some((s) => s.op === 'capset' || s.op === 'bounding')).toBe(false);
  });

  it('turns rlimits into setrlimit steps, huge values meaning unlimited', () => {
    const steps = containerPlan(spec((s) => { s.process!.rlimits = [{ type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 }]; }), ctx).steps;
    expect(steps.find((s) => s.op === 'setrlimit')).toMatchObject({ resource: 4, soft: 0xffff_ffff_ffff_ffffn });
  });

  it('opens a console for process.terminal and a new session otherwise', () => {
    expect(containerPlan(spec((s) => { s.process!.terminal = true; s.process!.consoleSize = { height: 40, width: 100 }; }), ctx).steps.find((s) => s.op === 'console'))
      .toMatchObject({ rows: 40, cols: 100 });
    expect(containerPlan(spec(), ctx).steps.some((s) => s.op === 'setsid')).toBe(true);
  });

  it('writes oom_score_adj before the pivot, while /proc/self still works', () => {
    const steps = containerPlan(spec((s) => { s.process!.oomScoreAdj = 500; }), ctx).steps;
    expect(indexOf(steps, (s) => s.op === 'writeFile' && s.path === '/proc/self/oom_score_adj')).toBeLessThan(indexOf(steps, (s) => s.op === 'pivotRoot'));
  });
});

describe('stepError', () => {
  it('names the step, its index, the config field, errno and syscall', () => {
    const plan = containerPlan(spec(), ctx);
    const i = indexOf(plan.steps, (s) => s.op === 'mount' && s.target === '/proc');
    const err = stepError(plan, i, 1, 'mount');
    expect(err.message).toBe(`mount proc on /proc (step ${i}, mounts[0]): EPERM (operation not permitted) from mount`);
    expect(err.details).toMatchObject({ step: i, field: 'mounts[0]', errno: 'EPERM', syscall: 'mount' });
  });
});
