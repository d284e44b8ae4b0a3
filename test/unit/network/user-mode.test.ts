// The user-mode network's pure parts: --network slirp4netns[:options], what -p alone means for a
// user, slirp4netns's command line, the refusal of a bridge for a user, and what state shows.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyNetworkMode, networkRequestOf, parseNetworkMode } from '../../../src/network/options.js';
import { prepareNetwork } from '../../../src/network/phase.js';
import { summarize, type UserModeRecord } from '../../../src/network/record.js';
import { GATE, slirpArgs } from '../../../src/network/user-mode/args.js';
import { findOnPath } from '../../../src/network/user-mode/preflight.js';
import { explainNetwork } from '../../../src/network/explain.js';
import { encodePlan } from '../../../src/native/encode-plan.js';
import { PLAN_FLAG } from '../../../src/native/ops.js';
import type { Plan } from '../../../src/abi/steps.js';
import { MS } from '../../../src/abi/linux.js';
import { containerPlan } from '../../../src/plan/container.js';
import { userModeResolvConf } from '../../../src/network/user-mode/resolv-conf.js';
import { withResolvConf } from '../../../src/network/resolv-conf.js';

/** What create binds in on a user-mode network: slirp4netns's resolv.conf, made from the host's file. */
const withUserModeResolvConf = (spec: Parameters<typeof withResolvConf>[0], stateDir: string, host: string | undefined) => withResolvConf(spec, stateDir, userModeResolvConf(host));

describe('--network slirp4netns', () => {
  it('parses podman\'s spelling; host loopback is off unless asked; other options are refused', () => {
    expect(parseNetworkMode('slirp4netns')).toEqual({ kind: 'slirp4netns', allowHostLoopback: false });
    expect(parseNetworkMode('slirp4netns:allow_host_loopback=true')).toEqual({ kind: 'slirp4netns', allowHostLoopback: true });
    expect(() => parseNetworkMode('slirp4netns:mtu=1500')).toThrow(/^--network: "slirp4netns:mtu=1500": slirp4netns takes one option, allow_host_loopback/);
    expect(() => parseNetworkMode('slirp')).toThrow(/slirp4netns\[:allow_host_loopback=true\]/);
  });

  it('-p alone: the bridge for root, slirp4netns for a user; -p is accepted with slirp4netns', () => {
    expect(networkRequestOf({ ports: ['8080:80'] }, false)!.mode).toEqual({ kind: 'bridge', network: 'tsrun' });
    expect(networkRequestOf({ ports: ['8080:80'] }, true)!.mode).toEqual({ kind: 'slirp4netns', allowHostLoopback: false });
    const spec = applyNetworkMode({ ociVersion: '1.0.2', linux: { namespaces: [{ type: 'pid' }] } }, { kind: 'slirp4netns', allowHostLoopback: false }, [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    expect(spec.linux!.namespaces).toEqual([{ type: 'pid' }, { type: 'network' }]);
  });

  it('a bridge as a user is refused naming root and slirp4netns, before any network file is read', () => {
    expect(() => prepareNetwork({ ociVersion: '1.0.2' }, { mode: { kind: 'bridge', network: 'nosuch' }, ports: [] }, undefined, 1000))
      .toThrow(/^--network: bridge:nosuch: a CNI bridge needs root .* as uid 1000 use --network slirp4netns/);
  });

  it('slirp4netns\'s command line: podman\'s options, the namespaces as inherited fds, through a gate that waits for go', () => {
    expect(slirpArgs({ allowHostLoopback: false, apiSocket: 's.sock' })).toEqual([
      '--configure', '--mtu=65520', '--disable-host-loopback', '--api-socket=s.sock', '--ready-fd=3',
      '--netns-type=path', '--userns-path=/proc/self/fd/5', '/proc/self/fd/4', 'tap0',
    ]);
    expect(slirpArgs({ allowHostLoopback: true, apiSocket: 's.sock' })).not.toContain('--disable-host-loopback');
    expect(GATE.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(GATE[2]).toMatch(/^read -r go && \[ "\$go" = go \] \|\| exit 97; exec "\$0" "\$@"/);
  });

  it('finds the program on PATH as execvp does (executable files only)', () => {
    const base = mkdtempSync(join(tmpdir(), 'tsrun-path-'));
    try {
      for (const d of ['a', 'b', 'c']) mkdirSync(join(base, d));
      writeFileSync(join(base, 'a/slirp4netns'), '');
      mkdirSync(join(base, 'b/slirp4netns'));
      writeFileSync(join(base, 'c/slirp4netns'), '#!/bin/sh\n');
      chmodSync(join(base, 'c/slirp4netns'), 0o755);
      symlinkSync(join(base, 'c/slirp4netns'), join(base, 'link'));
      expect(findOnPath('slirp4netns', ['a', 'b', 'c'].map((d) => join(base, d)).join(':'))).toBe(join(base, 'c/slirp4netns'));
      expect(findOnPath('slirp4netns', join(base, 'a'))).toBeUndefined();
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('state shows the fixed address, gateway and route; explain says what runs and when it stops', () => {
    const r: UserModeRecord = {
      driver: 'slirp4netns', network: 'slirp4netns', containerId: 'c', ifname: 'tap0', ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
      allowHostLoopback: false, phase: 'started', helper: { pid: 1, startTime: '1' }, apiSocket: 's.sock', log: 's.log',
    };
    expect(summarize(r)).toEqual({
      network: 'slirp4netns', interface: 'tap0', ips: [{ address: '10.0.2.100/24', gateway: '10.0.2.2' }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.0.2.2' }], ports: r.ports, netns: '', helper: { program: 'slirp4netns', pid: 1 },
    });
    const e = explainNetwork({ mode: { kind: 'slirp4netns', allowHostLoopback: false }, ports: r.ports });
    expect(e.text.join('\n')).toMatch(/slirp4netns --configure --mtu=65520 --disable-host-loopback/);
    expect(e.text.join('\n')).toMatch(/add_hostfwd 0\.0\.0\.0:8080 -> 10\.0\.2\.100:80\/tcp/);
    expect(e.text.join('\n')).toMatch(/at delete: slirp4netns is stopped/);
    expect(e.text.join('\n')).toMatch(/\/etc\/resolv\.conf: <state dir>\/resolv\.conf bound read-only over it \(nameserver 10\.0\.2\.3/);
  });

  it('a plan whose namespaces tsrun enters before the go-ahead keeps the child dumpable until then (as own-id maps do)', () => {
    const base: Plan = { namespaces: [], cloneFlags: 0, waitForParent: true, dieWithParent: false, preserveFds: 0, steps: [] };
    const flags = (p: Plan): number => encodePlan(p, { trace: false }).readUInt32LE(16);
    expect(flags(base) & PLAN_FLAG.DUMPABLE_UNTIL_GO).toBe(0);
    expect(flags({ ...base, enteredBeforeGo: true }) & PLAN_FLAG.DUMPABLE_UNTIL_GO).toBe(PLAN_FLAG.DUMPABLE_UNTIL_GO);
    expect(flags({ ...base, idMaps: { uid: [], gid: [], setgroups: 'allow', writer: 'helper' } }) & PLAN_FLAG.DUMPABLE_UNTIL_GO).toBe(0);
  });
});

describe('resolv.conf on a user-mode network', () => {
  it('names slirp4netns\'s DNS, keeps the host\'s search, domain and options lines, drops its nameservers and sortlist', () => {
    const host = '# by systemd\nnameserver 127.0.0.53\nnameserver 192.0.2.1\n  search example.org lan\noptions edns0 trust-ad\nsortlist 10.0.0.0/8\ndomain example.org\n';
    expect(userModeResolvConf(host)).toBe('nameserver 10.0.2.3\nsearch example.org lan\noptions edns0 trust-ad\ndomain example.org\n');
    expect(userModeResolvConf(undefined)).toBe('nameserver 10.0.2.3\n');
    expect(userModeResolvConf('')).toBe('nameserver 10.0.2.3\n');
  });

  it('bound read-only from the state dir after the config\'s mounts; nothing added when the config mounts /etc/resolv.conf, /etc or /', () => {
    const spec = { ociVersion: '1.0.2', mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }] };
    const r = withUserModeResolvConf(spec, '/run/user/1000/tsrun/c1', 'search lan\n')!;
    expect(r.file).toEqual({ path: '/run/user/1000/tsrun/c1/resolv.conf', content: 'nameserver 10.0.2.3\nsearch lan\n' });
    expect(r.spec.mounts).toEqual([spec.mounts[0], { destination: '/etc/resolv.conf', type: 'bind', source: '/run/user/1000/tsrun/c1/resolv.conf', options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] }]);
    expect(spec.mounts).toHaveLength(1);
    for (const destination of ['/etc/resolv.conf', 'etc/resolv.conf', '/etc', '/etc/', '/', '/etc/../etc']) {
      expect(withUserModeResolvConf({ ociVersion: '1.0.2', mounts: [{ destination, type: 'bind', source: '/x' }] }, '/s', '')).toBeUndefined();
    }
    expect(withUserModeResolvConf({ ociVersion: '1.0.2', mounts: [{ destination: '/etcetera', type: 'bind', source: '/x' }] }, '/s', '')).toBeDefined();
  });

  it('the plan binds it as a file, made as a mount point if the rootfs lacks one, then remounts it read-only', () => {
    const { spec } = withUserModeResolvConf({ ociVersion: '1.0.2', process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } }, root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'mount' }, { type: 'network' }] } }, '/state/c1', undefined)!;
    const host = { kind: (p: string): 'dir' | 'file' | undefined => (p === '/state/c1/resolv.conf' ? 'file' : undefined) };
    const plan = containerPlan(spec, { bundleDir: '/b', rootfs: '/b/rootfs', host, runningAsRoot: true });
    const steps = plan.steps.filter((s) => s.op === 'mount' && s.target === '/etc/resolv.conf');
    expect(steps).toMatchObject([
      { source: '/state/c1/resolv.conf', flags: MS.BIND, mkdir: 'file', inRoot: true },
      { flags: MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC },
    ]);
  });
});
