// The resolv.conf of a container on a CNI bridge (src/network/cni/resolv-conf.ts) and how create binds
// it in (src/network/phase.ts): the host's resolvers that the container can reach through the bridge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyBuiltinNetworks } from '../../helpers/network-dirs.js';
import { bridgeResolvConf } from '../../../src/network/cni/resolv-conf.js';
import { prepareNetwork } from '../../../src/network/phase.js';
import { explainNetwork } from '../../../src/network/explain.js';

onlyBuiltinNetworks({ beforeAll, afterAll });

describe('resolv.conf on a CNI bridge', () => {
  it('the host\'s nameservers less those only the host reaches (loopback, link-local), then its search, domain and options lines', () => {
    const host = '# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.1\nnameserver ::1\nnameserver 0:0:0:0:0:0:0:1\nnameserver ::ffff:127.0.0.1\n'
      + 'nameserver fe80::1%eth0\nnameserver 2001:db8::1\nnameserver 198.51.100.7\n  search example.org lan\noptions edns0 trust-ad\nsortlist 10.0.0.0/8\ndomain example.org\n';
    expect(bridgeResolvConf(host, undefined, false)).toBe('nameserver 192.0.2.1\nnameserver 198.51.100.7\nsearch example.org lan\noptions edns0 trust-ad\ndomain example.org\n');
    // IPv6 resolvers only for a network with an IPv6 subnet.
    expect(bridgeResolvConf(host, undefined, true)).toBe('nameserver 192.0.2.1\nnameserver 2001:db8::1\nnameserver 198.51.100.7\nsearch example.org lan\noptions edns0 trust-ad\ndomain example.org\n');
  });

  it('only a loopback resolver on the host: systemd-resolved\'s upstream servers, else 8.8.8.8 and 8.8.4.4 (podman\'s and docker\'s fallback)', () => {
    const stub = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n';
    expect(bridgeResolvConf(stub, 'nameserver 203.0.113.9\nnameserver 127.0.0.1\nsearch upstream.test\n', false)).toBe('nameserver 203.0.113.9\noptions edns0 trust-ad\nsearch .\n');
    expect(bridgeResolvConf(stub, undefined, false)).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\noptions edns0 trust-ad\nsearch .\n');
    expect(bridgeResolvConf(undefined, undefined, false)).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    expect(bridgeResolvConf('nameserver not-an-address\n', 'nameserver 127.0.0.1\n', false)).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });

  it('create binds it read-only from the state dir and writes it there before the spawn; not when the config mounts /etc/resolv.conf or /etc', () => {
    const p = prepareNetwork({ ociVersion: '1.0.2', mounts: [] }, { mode: { kind: 'bridge', network: 'tsrun' }, ports: [] }, '/run/tsrun/c1', 0);
    expect(p.cni?.network.name).toBe('tsrun');
    expect(p.spec.mounts).toEqual([{ destination: '/etc/resolv.conf', type: 'bind', source: '/run/tsrun/c1/resolv.conf', options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] }]);
    expect(p.beforeSpawn).toBeTypeOf('function');
    expect(p.planOptions?.host.kind('/run/tsrun/c1/resolv.conf')).toBe('file');
    for (const destination of ['/etc/resolv.conf', '/etc']) {
      const own = prepareNetwork({ ociVersion: '1.0.2', mounts: [{ destination, type: 'bind', source: '/x' }] }, { mode: { kind: 'bridge', network: 'tsrun' }, ports: [] }, '/run/tsrun/c1', 0);
      expect(own.spec.mounts).toHaveLength(1);
      expect(own.beforeSpawn).toBeUndefined();
    }
  });

  it('explain says so', () => {
    const e = explainNetwork({ mode: { kind: 'bridge', network: 'tsrun' }, ports: [] });
    expect(e.text.join('\n')).toContain('/etc/resolv.conf: <state dir>/resolv.conf bound read-only over it (the host\'s nameservers less loopback ones');
  });
});
