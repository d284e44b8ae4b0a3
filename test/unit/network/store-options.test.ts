// Named networks (tsrun's directory, the system's CNI directory, the built-in default) and the
// --network / -p options.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNetwork, findNetwork, listNetworks, removeNetwork, type NetworkDirs } from '../../../src/network/store.js';
import { applyNetworkMode, parseNetworkMode, parsePortMapping } from '../../../src/network/options.js';
import { parseSubnet } from '../../../src/network/subnet.js';
import { planSpec } from '../../helpers/plan-context.js';

let base: string;
let dirs: NetworkDirs;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'tsrun-nets-'));
  dirs = { own: join(base, 'own'), system: [join(base, 'system')] };
  mkdirSync(dirs.system[0]!);
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

describe('network store', () => {
  it('has the default network without any file', () => {
    const { networks } = listNetworks(dirs);
    expect(networks.map((n) => [n.name, n.source])).toEqual([['tsrun', 'builtin']]);
    expect(networks[0]!.list.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'firewall']);
    expect(networks[0]!.list.plugins[2]).toMatchObject({ backend: 'iptables' });
  });

  it('creates a conflist with the next free subnet and bridge, refuses duplicates and overlaps', () => {
    const a = createNetwork('alpha', {}, dirs);
    expect(a.file).toBe(join(dirs.own, 'alpha.conflist'));
    expect(JSON.parse(readFileSync(a.file!, 'utf8'))).toEqual(a.list);
    expect(a.list.plugins[0]).toMatchObject({ type: 'bridge', bridge: 'tsrun1', ipam: { ranges: [[{ subnet: '10.89.1.0/24', gateway: '10.89.1.1' }]] } });
    const b = createNetwork('beta', { subnet: '192.168.77.0/24' }, dirs);
    expect(b.list.plugins[0]).toMatchObject({ bridge: 'tsrun2', ipam: { ranges: [[{ subnet: '192.168.77.0/24', gateway: '192.168.77.1' }]] } });
    expect(() => createNetwork('alpha', {}, dirs)).toThrow('network alpha already exists');
    expect(() => createNetwork('gamma', { subnet: '10.89.0.0/16' }, dirs)).toThrow(/--subnet: 10\.89\.0\.0\/16 overlaps 10\.89\.0\.0\/24 of network tsrun/);
    expect(() => createNetwork('bad/name', {}, dirs)).toThrow(/not a network name/);
    expect(() => createNetwork('delta', { subnet: '10.1.2.3/24' }, dirs)).toThrow('--subnet: 10.1.2.3/24 has host bits set: the subnet is 10.1.2.0/24');
    expect(listNetworks(dirs).networks.map((n) => n.name)).toEqual(['tsrun', 'alpha', 'beta']);
  });

  it('reads the system directory too (a .conf as a list of one), tsrun\'s first; bad files are listed apart', () => {
    writeFileSync(join(dirs.system[0]!, '10-podman.conflist'), JSON.stringify({ cniVersion: '0.4.0', name: 'podman', plugins: [{ type: 'bridge' }] }));
    writeFileSync(join(dirs.system[0]!, '20-single.conf'), JSON.stringify({ cniVersion: '0.3.1', name: 'single', type: 'ptp', ipMasq: true }));
    writeFileSync(join(dirs.system[0]!, '30-broken.conflist'), '{');
    createNetwork('podman2', {}, dirs);
    const { networks, invalid } = listNetworks(dirs);
    expect(networks.map((n) => [n.name, n.source])).toEqual([['tsrun', 'builtin'], ['podman2', 'tsrun'], ['podman', 'system'], ['single', 'system']]);
    expect(findNetwork('single', dirs).list.plugins).toEqual([{ type: 'ptp', ipMasq: true }]);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]!.problem).toMatch(/30-broken\.conflist|is not JSON/);
    expect(() => findNetwork('nope', dirs)).toThrow('no network named nope');
  });

  it('removes only tsrun\'s own networks, and none in use', () => {
    writeFileSync(join(dirs.system[0]!, '10-sys.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'sys', plugins: [{ type: 'bridge' }] }));
    createNetwork('mine', {}, dirs);
    expect(() => removeNetwork('mine', ['c1', 'c2'], dirs)).toThrow('network mine is used by containers c1, c2: delete them first');
    expect(() => removeNetwork('sys', [], dirs)).toThrow(/not by tsrun: remove that file yourself/);
    expect(() => removeNetwork('tsrun', [], dirs)).toThrow(/built in/);
    removeNetwork('mine', [], dirs);
    expect(listNetworks(dirs).networks.map((n) => n.name)).toEqual(['tsrun', 'sys']);
  });
});

describe('--network and -p', () => {
  it('parses the modes', () => {
    expect(parseNetworkMode('none')).toEqual({ kind: 'none' });
    expect(parseNetworkMode('host')).toEqual({ kind: 'host' });
    expect(parseNetworkMode('bridge')).toEqual({ kind: 'bridge', network: 'tsrun' });
    expect(parseNetworkMode('bridge:lab')).toEqual({ kind: 'bridge', network: 'lab' });
    expect(parseNetworkMode('ns:/run/netns/x')).toEqual({ kind: 'ns', path: '/run/netns/x' });
    for (const bad of ['bridge:', 'ns:relative', 'slirp', '']) expect(() => parseNetworkMode(bad)).toThrow(/^--network: /);
  });

  it('parses port mappings as docker writes them', () => {
    expect(parsePortMapping('8080:80')).toEqual({ hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    expect(parsePortMapping('5353:53/udp')).toEqual({ hostPort: 5353, containerPort: 53, protocol: 'udp' });
    expect(parsePortMapping('127.0.0.1:8080:80/tcp')).toEqual({ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' });
    for (const bad of ['80', '0:80', '8080:70000', '8080:80/sctp', 'a:b', '::1:80:80']) expect(() => parsePortMapping(bad)).toThrow(/^-p: /);
  });

  it('rewrites the network namespace of the spec', () => {
    const spec = planSpec();
    const net = (m: string) => applyNetworkMode(spec, parseNetworkMode(m), []).linux!.namespaces!.filter((n) => n.type === 'network');
    expect(net('none')).toEqual([{ type: 'network' }]);
    expect(net('bridge')).toEqual([{ type: 'network' }]);
    expect(net('host')).toEqual([]);
    expect(net('ns:/run/netns/x')).toEqual([{ type: 'network', path: '/run/netns/x' }]);
    expect(applyNetworkMode(spec, { kind: 'host' }, []).linux!.namespaces!.length).toBe(spec.linux!.namespaces!.length - 1);
    expect(() => applyNetworkMode(spec, { kind: 'none' }, [parsePortMapping('8080:80')])).toThrow(/^-p: publishing ports needs --network bridge/);
  });

  it('subnets', () => {
    expect(parseSubnet('10.0.0.0/8')).toEqual({ base: 167772160, prefix: 8 });
    expect(() => parseSubnet('10.0.0.0/31')).toThrow(/from \/8 to \/30/);
    expect(() => parseSubnet('300.0.0.0/24')).toThrow(/not an IPv4 subnet/);
  });
});

describe('networkRequestOf (the library spec\'s network and ports)', () => {
  it('parses the mode and the ports, strings or objects; ports alone mean the default bridge; nothing means undefined', async () => {
    const { networkRequestOf } = await import('../../../src/network/container-network.js');
    expect(networkRequestOf({})).toBeUndefined();
    expect(networkRequestOf({ network: 'none' })).toEqual({ mode: { kind: 'none' }, ports: [] });
    expect(networkRequestOf({ ports: ['127.0.0.1:8080:80/udp', { hostPort: 1, containerPort: 2, protocol: 'tcp' }] })).toEqual({
      mode: { kind: 'bridge', network: 'tsrun' },
      ports: [{ hostIP: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'udp' }, { hostPort: 1, containerPort: 2, protocol: 'tcp' }],
    });
    expect(() => networkRequestOf({ network: 'bridge:', ports: [] })).toThrow(/--network/);
  });
});

describe('asksForNetwork (which run/create go to the full bundle, where the CNI code is)', () => {
  it('a bridge, -p, or a dry run explaining a network does; none, host, ns:PATH and nothing do not', async () => {
    const { asksForNetwork } = await import('../../../src/cli/network-args.js');
    expect(asksForNetwork('bridge', undefined)).toBe(true);
    expect(asksForNetwork('bridge:mynet', [])).toBe(true);
    expect(asksForNetwork(undefined, ['80:80'])).toBe(true);
    expect(asksForNetwork('none', undefined, true)).toBe(true);
    for (const n of ['none', 'host', 'ns:/run/netns/x', undefined]) expect(asksForNetwork(n, [])).toBe(false);
  });
});
