// What `explain --network …` adds (src/network/explain.ts): the spec as the mode changes it, and the
// CNI plugins tsrun will run, in order, with what each is given.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyBuiltinNetworks } from '../../helpers/network-dirs.js';
import { explainNetwork } from '../../../src/network/explain.js';
import { containerPlan as buildPlan } from '../../../src/plan/container.js';
import { planContext, planSpec } from '../../helpers/plan-context.js';

onlyBuiltinNetworks({ beforeAll, afterAll });

const netEntries = (s: ReturnType<typeof planSpec>) => (s.linux?.namespaces ?? []).filter((n) => n.type === 'network');

describe('explainNetwork', () => {
  it('bridge: a new namespace, the default network\'s plugins in order with prevResult and the port mappings, DEL in reverse', () => {
    const e = explainNetwork({ mode: { kind: 'bridge', network: 'tsrun' }, ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
    const spec = e.spec(planSpec((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network'); }));
    expect(netEntries(spec)).toEqual([{ type: 'network' }]);
    expect(buildPlan(spec, planContext).steps.some((s) => s.op === 'loopbackUp')).toBe(true);
    expect(e.text[1]).toBe('  a new network namespace, attached to CNI network tsrun (built in; 10.89.0.0/24) once the container process waits, before it can exec:');
    const adds = e.text.filter((l) => l.includes('CNI ADD'));
    expect(adds.map((l) => l.trim().split(/\s+/).slice(0, 4).join(' '))).toEqual(['CNI ADD 1 bridge', 'CNI ADD 2 portmap', 'CNI ADD 3 firewall']);
    expect(adds[1]).toContain('prevResult=<result of bridge> runtimeConfig.portMappings=[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]');
    expect(adds[0]).not.toContain('prevResult');
    expect(e.text.at(-1)).toContain('CNI DEL of the same plugins, last first (firewall, portmap, bridge)');
    expect(e.json).toEqual({ mode: { kind: 'bridge', network: 'tsrun' }, network: 'tsrun', file: null, plugins: ['bridge', 'portmap', 'firewall'], ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
  });

  it('host: the spec loses its network namespace (no lo step); ns:PATH joins the file; none keeps a new one', () => {
    const host = explainNetwork({ mode: { kind: 'host' }, ports: [] });
    const hostSpec = host.spec(planSpec());
    expect(netEntries(hostSpec)).toEqual([]);
    expect(buildPlan(hostSpec, planContext).steps.some((s) => s.op === 'loopbackUp')).toBe(false);
    expect(host.text.join('\n')).toContain('the caller\'s network namespace');
    const joined = explainNetwork({ mode: { kind: 'ns', path: '/run/netns/x' }, ports: [] });
    expect(netEntries(joined.spec(planSpec()))).toEqual([{ type: 'network', path: '/run/netns/x' }]);
    expect(joined.text).toEqual(['network:', '  joins the namespace /run/netns/x (setns before the clone: see the namespaces above)']);
    const none = explainNetwork({ mode: { kind: 'none' }, ports: [] });
    expect(netEntries(none.spec(planSpec()))).toEqual([{ type: 'network' }]);
    expect(none.json).toEqual({ mode: { kind: 'none' } });
  });

  it('an unknown network, or -p without a bridge, is an error naming it', () => {
    expect(() => explainNetwork({ mode: { kind: 'none' }, ports: [{ hostPort: 80, containerPort: 80, protocol: 'tcp' }] })).toThrow(/publishing ports needs --network bridge/);
    expect(() => explainNetwork({ mode: { kind: 'bridge', network: 'nosuch' }, ports: [] })).toThrow(/no network named nosuch/);
  });
});
