import { describe, expect, it } from 'vitest';
import { allCapabilities, capabilityName, decodeCapabilityMask } from '../../../src/check/capabilities.js';
import { isInitialUserNamespace, probePrivileges } from '../../../src/check/privileges.js';
import { INITIAL_UID_MAP, ROOTLESS_UID_MAP, STATUS_DOCKER_ROOT, STATUS_FULL_ROOT, STATUS_THIS_HOST, STATUS_USER } from './samples.js';

describe('capability masks', () => {
  it('decodes this host\'s CapEff: all of 0..40 except CAP_SYS_RESOURCE (24)', () => {
    const names = decodeCapabilityMask('000001fffeffffff');
    expect(names).toHaveLength(40);
    expect(names).not.toContain('CAP_SYS_RESOURCE');
    expect(names?.at(-1)).toBe('CAP_CHECKPOINT_RESTORE');
  });

  it('decodes Docker\'s default set', () => {
    expect(decodeCapabilityMask('00000000a80425fb')).toEqual([
      'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
      'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP',
    ]);
  });

  it('names capabilities newer than the table by number, and rejects malformed masks', () => {
    expect(capabilityName(41)).toBe('cap_41');
    expect(decodeCapabilityMask('0000030000000000')).toEqual(['CAP_CHECKPOINT_RESTORE', 'cap_41']);
    expect(decodeCapabilityMask('xyz')).toBeUndefined();
    expect(allCapabilities(40)).toHaveLength(41);
  });
});

describe('isInitialUserNamespace', () => {
  it('recognises the identity map of the initial namespace, whatever the padding', () => {
    expect(isInitialUserNamespace(INITIAL_UID_MAP)).toBe(true);
    expect(isInitialUserNamespace(ROOTLESS_UID_MAP)).toBe(false);
  });
});

describe('probePrivileges', () => {
  it('on this host: root, privileged, but CAP_SYS_RESOURCE missing from CapEff and CapBnd with its meaning', () => {
    const p = probePrivileges({ euid: 0, status: STATUS_THIS_HOST, capLastCap: '40\n', uidMap: INITIAL_UID_MAP });
    expect(p.privileged).toBe(true);
    expect(p.initialUserNamespace).toBe(true);
    const bnd = p.items.find((i) => i.name === 'CapBnd');
    expect(bnd).toMatchObject({ status: 'warn', facts: { missing: ['CAP_SYS_RESOURCE'] } });
    expect(bnd?.detail).toMatch(/40 of 41.*CAP_SYS_RESOURCE \(process\.rlimits/);
    expect(p.items.find((i) => i.name === 'CapEff')?.status).toBe('warn');
  });

  it('full root: everything ok', () => {
    const p = probePrivileges({ euid: 0, status: STATUS_FULL_ROOT, capLastCap: '40', uidMap: INITIAL_UID_MAP });
    expect(p.items.map((i) => i.status)).toEqual(['ok', 'ok', 'ok']);
  });

  it('an ordinary user: not privileged, pointed at sudo or rootless mode', () => {
    const p = probePrivileges({ euid: 1000, status: STATUS_USER, capLastCap: '40', uidMap: INITIAL_UID_MAP });
    expect(p.privileged).toBe(false);
    expect(p.items[0]).toMatchObject({ name: 'user', status: 'warn', fix: expect.stringContaining('rootless') });
    expect(p.items.find((i) => i.name === 'CapEff')?.detail).toMatch(/^none/);
  });

  it('root in a Docker container is not privileged: no CAP_SYS_ADMIN', () => {
    const p = probePrivileges({ euid: 0, status: STATUS_DOCKER_ROOT, capLastCap: '40', uidMap: INITIAL_UID_MAP });
    expect(p.privileged).toBe(false);
    expect(p.items.find((i) => i.name === 'CapEff')?.detail).toMatch(/14 of 41.*CAP_SYS_ADMIN \(mount/);
  });

  it('root of a user namespace is told it is not root on the host', () => {
    const p = probePrivileges({ euid: 0, status: STATUS_FULL_ROOT, capLastCap: '40', uidMap: ROOTLESS_UID_MAP });
    expect(p.initialUserNamespace).toBe(false);
    expect(p.items[0]?.detail).toMatch(/root of a user namespace/);
  });
});
