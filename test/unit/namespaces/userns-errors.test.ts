import { describe, expect, it } from 'vitest';
import { stepError } from '../../../src/process/parent.js';
import { userNamespaceHint } from '../../../src/namespaces/userns-errors.js';
import type { Plan } from '../../../src/abi/steps.js';

const CLONE_NEWUSER = 0x10000000;
const plan = (cloneFlags: number): Plan => ({
  namespaces: cloneFlags ? [{ type: 'user', flag: CLONE_NEWUSER, action: 'create' }] : [], cloneFlags,
  idMaps: { uid: [{ containerID: 0, hostID: 1000, size: 1 }], gid: [{ containerID: 0, hostID: 1000, size: 1 }], setgroups: 'deny', writer: 'own-id' },
  waitForParent: true, dieWithParent: true, preserveFds: 0, steps: [],
});

describe('a user namespace the kernel refuses to a user', () => {
  it('names the setting that forbids it and how to change it', () => {
    expect(userNamespaceHint('EPERM', 1000)).toMatch(/kernel\.unprivileged_userns_clone.*apparmor_restrict_unprivileged_userns/);
    expect(userNamespaceHint('ENOSPC', 1000)).toMatch(/user\.max_user_namespaces/);
    expect(userNamespaceHint('EUSERS', 1000)).toMatch(/nested/);
    expect(userNamespaceHint('EPERM', 0)).toBeUndefined();
    expect(userNamespaceHint('ENOMEM', 1000)).toBeUndefined();
  });
  it('the clone failure of a plan with a new user namespace carries the hint and the field', () => {
    const euid = process.geteuid?.() ?? 0;
    const e = stepError(plan(CLONE_NEWUSER), -1, 1, 'clone', 1000);
    expect(e.message).toMatch(/^creating the container process failed: .* from clone: a user namespace .*uid 1000.*kernel\.unprivileged_userns_clone/);
    expect(e.details.field).toBe('linux.namespaces');
    expect(stepError(plan(0), -1, 1, 'clone', euid).message).not.toMatch(/user namespace/);
  });
});

describe('a user\'s config without a user namespace', () => {
  it('is refused before anything is made, naming linux.namespaces and spec --rootless', async () => {
    const { planNamespaces } = await import('../../../src/namespaces/plan.js');
    const spec = { ociVersion: '1.2.0', linux: { namespaces: [{ type: 'pid' as const }, { type: 'mount' as const }] } };
    expect(() => planNamespaces(spec, { runningAsRoot: false, caller: { uid: 1000, gid: 1000 } }))
      .toThrow(/linux\.namespaces: tsrun runs as uid 1000, not root: new pid, mount namespaces need a user namespace .*spec --rootless/);
    expect(() => planNamespaces(spec, { runningAsRoot: true })).not.toThrow();
    // Joining namespaces only, or none at all, takes no privilege of its own.
    expect(() => planNamespaces({ ociVersion: '1.2.0', linux: { namespaces: [] } }, { runningAsRoot: false })).not.toThrow();
  });
});
