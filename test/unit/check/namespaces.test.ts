import { describe, expect, it } from 'vitest';
import { probeNamespaces, NAMESPACE_TYPES, type NamespaceType } from '../../../src/check/namespaces.js';
import { THIS_HOST_NS } from './samples.js';

const limits = (value: string): Partial<Record<NamespaceType, string>> =>
  Object.fromEntries(NAMESPACE_TYPES.map((t) => [t, `${value}\n`]));

describe('probeNamespaces', () => {
  it('on this host: every type available and creatable, rootless possible', () => {
    const p = probeNamespaces({ nsEntries: THIS_HOST_NS, maxNamespaces: limits('96364') });
    expect(p.items.every((i) => i.status === 'ok')).toBe(true);
    expect(Object.values(p.creatable).every(Boolean)).toBe(true);
    expect(p.unprivilegedUserns).toBe(true);
    expect(p.items.find((i) => i.name === 'pid')?.detail).toMatch(/CLONE_NEWPID.*user\.max_pid_namespaces = 96364/);
    expect(p.items.find((i) => i.name === 'pid')?.facts).toEqual({ limit: 96364 });
  });

  it('reports a type the kernel lacks as missing, with the kernel option that provides it', () => {
    const p = probeNamespaces({ nsEntries: THIS_HOST_NS.filter((n) => n !== 'time'), maxNamespaces: {} });
    const time = p.items.find((i) => i.name === 'time');
    expect(time).toMatchObject({ status: 'missing', fix: expect.stringContaining('CONFIG_TIME_NS') });
    expect(p.creatable.time).toBe(false);
  });

  it('treats a limit of 0 as disabled, and says which sysctl to raise', () => {
    const p = probeNamespaces({ nsEntries: THIS_HOST_NS, maxNamespaces: { ...limits('100'), pid: '0\n' } });
    expect(p.creatable.pid).toBe(false);
    expect(p.items.find((i) => i.name === 'pid')).toMatchObject({ status: 'missing', fix: expect.stringContaining('sysctl -w user.max_pid_namespaces=') });
  });

  it('max_user_namespaces = 0 also rules out rootless', () => {
    const p = probeNamespaces({ nsEntries: THIS_HOST_NS, maxNamespaces: { ...limits('100'), user: '0' } });
    expect(p.unprivilegedUserns).toBe(false);
    expect(p.items.find((i) => i.name === 'rootless')?.status).toBe('missing');
  });

  it('honours Debian\'s kernel.unprivileged_userns_clone = 0', () => {
    const p = probeNamespaces({ nsEntries: THIS_HOST_NS, maxNamespaces: limits('100'), unprivilegedUsernsClone: '0\n' });
    expect(p.creatable.user).toBe(true);
    expect(p.unprivilegedUserns).toBe(false);
    expect(p.items.find((i) => i.name === 'rootless')).toMatchObject({ status: 'warn', fix: expect.stringContaining('unprivileged_userns_clone=1') });
  });

  it('honours Ubuntu\'s kernel.apparmor_restrict_unprivileged_userns = 1', () => {
    const p = probeNamespaces({ nsEntries: THIS_HOST_NS, maxNamespaces: limits('100'), unprivilegedUsernsClone: '1', apparmorRestrictUnprivilegedUserns: '1' });
    expect(p.unprivilegedUserns).toBe(false);
  });
});
