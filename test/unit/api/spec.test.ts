// ContainerSpec → OCI config, and the stdio steps, as data (no root, no kernel).
import { describe, expect, it } from 'vitest';
import { applyContainerSpec, parseMemory, SESSION_ANNOTATION } from '../../../src/api/spec.js';
import { defaultSpec } from '../../../src/oci/default-spec.js';
import { withStdio } from '../../../src/process/stdio.js';
import { encodePlan } from '../../../src/native/encode-plan.js';
import { describeStep } from '../../../src/abi/describe-step.js';
import type { Plan } from '../../../src/abi/steps.js';

const host = (controllers?: string[]) => ({ controllers: () => controllers, warn: (m: string) => { warnings.push(m); } });
let warnings: string[] = [];

describe('applyContainerSpec', () => {
  it('cmd, entrypoint, env by name, cwd, user, hostname; no pty; the base is not changed', () => {
    const base = defaultSpec({ args: ['sh'] });
    const s = applyContainerSpec(base, { spec: { entrypoint: ['/init'], cmd: ['a'], env: { TERM: 'dumb', X: '1' }, cwd: '/w', user: '5:6', hostname: 'h' }, argsFromImage: false }, host());
    expect(s.process!.args).toEqual(['/init', 'a']);
    expect(s.process!.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=dumb', 'X=1']);
    expect([s.process!.cwd, s.process!.user.uid, s.process!.user.gid, s.hostname, s.process!.terminal]).toEqual(['/w', 5, 6, 'h', false]);
    expect(base.process!.args).toEqual(['sh']);
    // An image's args (entrypoint + cmd, made by the image code) stay unless an entrypoint is given.
    expect(applyContainerSpec(base, { spec: { cmd: ['x'] }, argsFromImage: true }, host()).process!.args).toEqual(['sh']);
  });

  it('mounts, readonlyRoot, caps, session annotation, config() last', () => {
    const s = applyContainerSpec(defaultSpec(), {
      spec: { mounts: [{ type: 'bind', source: '/src', target: '/d', readonly: true }, { type: 'tmpfs', target: '/t', size: '1m' }], readonlyRoot: false, capAdd: ['net_admin'], capDrop: ['CAP_KILL'], config: (x) => ({ ...x, domainname: 'd' }) },
      argsFromImage: false, session: { id: 'sess1' },
    }, host());
    expect(s.mounts!.slice(-2)).toEqual([
      { destination: '/d', type: 'bind', source: '/src', options: ['rbind', 'ro', 'nosuid', 'nodev'] },
      { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m'] },
    ]);
    expect(s.root!.readonly).toBe(false);
    expect(s.process!.capabilities!.bounding).toEqual(['CAP_AUDIT_WRITE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_ADMIN']);
    expect(s.annotations![SESSION_ANNOTATION]).toBe('sess1');
    expect(s.domainname).toBe('d');
    expect(() => applyContainerSpec(defaultSpec(), { spec: { mounts: [{ type: 'bind', source: 'rel', target: '/d' }] }, argsFromImage: false }, host())).toThrow(/mounts\[0\]\.source/);
    expect(() => applyContainerSpec(defaultSpec(), { spec: { user: 'root' }, argsFromImage: false }, host())).toThrow(/^user:/);
  });

  it('limits: applied where the controller exists; error names the field; warn warns; ignore is silent', () => {
    const full = applyContainerSpec(defaultSpec(), { spec: { limits: { memory: '64m', pids: 5, cpus: 1.5 } }, argsFromImage: false }, host(['cpu', 'memory', 'pids']));
    expect(full.linux!.resources).toMatchObject({ memory: { limit: 64 * 2 ** 20 }, pids: { limit: 5 }, cpu: { quota: 150_000, period: 100_000 } });
    expect(() => applyContainerSpec(defaultSpec(), { spec: { limits: { pids: 5 } }, argsFromImage: false }, host(['hugetlb']))).toThrow(/^limits\.pids: this host's cgroup v2 has no "pids" controller/);
    warnings = [];
    const warned = applyContainerSpec(defaultSpec(), { spec: { limits: { memory: 1, pids: 5, onUnsupported: 'warn' } }, argsFromImage: false }, host(['pids']));
    expect(warned.linux!.resources!.memory).toBeUndefined();
    expect(warned.linux!.resources!.pids).toEqual({ limit: 5 });
    expect(warnings).toHaveLength(1);
    warnings = [];
    applyContainerSpec(defaultSpec(), { spec: { limits: { memory: 1, onUnsupported: 'ignore' } }, argsFromImage: false }, host(undefined));
    expect(warnings).toEqual([]);
    expect(parseMemory('1g')).toBe(2 ** 30);
    expect(() => parseMemory('lots')).toThrow(/limits\.memory/);
  });
});

describe('withStdio', () => {
  it('makes three fds of tsrun\'s the process\'s 0-2, first, as passed fds; encodes as op dupFd', () => {
    const plan: Plan = { namespaces: [], cloneFlags: 0, waitForParent: true, dieWithParent: true, preserveFds: 0, steps: [{ op: 'exec', args: ['true'], env: [], why: 'x' }] };
    const p = withStdio(plan, { stdin: 10, stdout: 11, stderr: 12 });
    expect(p.passFds).toEqual([10, 11, 12]);
    expect(p.steps.slice(0, 3).map(describeStep)).toEqual(['dup2 fd 10 to stdin', 'dup2 fd 11 to stdout', 'dup2 fd 12 to stderr']);
    expect(withStdio(plan, undefined)).toBe(plan);
    expect(encodePlan(p, { trace: false }).length).toBeGreaterThan(encodePlan(plan, { trace: false }).length);
  });
});
