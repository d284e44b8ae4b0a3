// What `explain --network …` (and `run --dry-run --network …`) adds to the plan: which namespace the
// container gets, and for a CNI network the plugins tsrun will run after the clone, in order, with
// what each is given. Pure, apart from reading the network's file.
import type { Spec } from '../oci/types.js';
import type { NetworkRequest } from './phase.js';
import { prepareNetwork } from './phase.js';
import { applyNetworkMode } from './options.js';
import { subnetsOf } from './subnet.js';

export function explainNetwork(req: NetworkRequest): { spec: (s: Spec) => Spec; text: string[]; json: unknown } {
  // -p without a bridge is refused here as run refuses it, before anything is printed.
  applyNetworkMode({ ociVersion: '1.0.2' }, req.mode, req.ports);
  // The namespace part only (a bridge's is a new namespace, as none's): the network is looked up below.
  const spec = (s: Spec): Spec => prepareNetwork(s, { ports: [], mode: req.mode.kind === 'bridge' || req.mode.kind === 'slirp4netns' ? { kind: 'none' } : req.mode }).spec;
  const text: string[] = ['network:'];
  switch (req.mode.kind) {
    case 'none': text.push('  a new network namespace with only lo (brought up by the loopbackUp step above); nothing reaches it but the library\'s forwardPort/connect'); break;
    case 'host': text.push('  the caller\'s network namespace: no network entry in linux.namespaces, the container shares the host\'s interfaces and ports'); break;
    case 'ns': text.push(`  joins the namespace ${req.mode.path} (setns before the clone: see the namespaces above)`); break;
    case 'slirp4netns': {
      const m = req.mode;
      text.push('  a new network namespace with a user-mode network (no root needed), once the container process waits, before it can exec:');
      text.push('  before the go-ahead (the process is still dumpable), a connector (tsrun-init connect) joins its user and network namespaces by pidfd and hands them back as fds');
      text.push(`  slirp4netns --configure --mtu=65520${m.allowHostLoopback ? '' : ' --disable-host-loopback'} --api-socket=<state dir>/slirp4netns.sock --netns-type=path /proc/self/fd/4 tap0`);
      text.push(`    (its pid recorded in <state dir>/network.json before it runs) makes tap0 10.0.2.100/24, default route via 10.0.2.2, DNS 10.0.2.3; 10.0.2.2 ${m.allowHostLoopback ? 'reaches' : 'does not reach'} the host's 127.0.0.1`);
      text.push('  /etc/resolv.conf: <state dir>/resolv.conf bound read-only over it (nameserver 10.0.2.3, slirp4netns\'s DNS, with the host\'s search and options lines), unless the config mounts /etc/resolv.conf or /etc');
      for (const p of req.ports) text.push(`  add_hostfwd ${p.hostIP ?? '0.0.0.0'}:${p.hostPort} -> 10.0.2.100:${p.containerPort}/${p.protocol}  (slirp4netns listens on the host side)`);
      text.push('  at delete: slirp4netns is stopped (SIGTERM, then SIGKILL), its ports close');
      return { spec, text, json: { mode: req.mode, helper: 'slirp4netns', ports: req.ports } };
    }
    case 'bridge': break;
  }
  if (req.mode.kind !== 'bridge') return { spec, text, json: { mode: req.mode } };
  const prepared = prepareNetwork({ ociVersion: '1.0.2' }, req);
  const n = prepared.cni!.network;
  text.push(`  a new network namespace, attached to CNI network ${n.name} (${n.source === 'builtin' ? 'built in' : n.file}; ${subnetsOf(n.list.plugins).join(', ') || 'no host-local subnet'}) once the container process waits, before it can exec:`);
  text.push(`  bind /proc/PID/ns/net on <state dir>/netns  (the namespace outlives the process until delete)`);
  text.push('  /etc/resolv.conf: <state dir>/resolv.conf bound read-only over it (the host\'s nameservers less loopback ones, else systemd-resolved\'s upstream ones, else 8.8.8.8 and 8.8.4.4; the host\'s search and options lines), unless the config mounts /etc/resolv.conf or /etc');
  n.list.plugins.forEach((p, i) => {
    const caps = Object.entries(p.capabilities ?? {}).filter(([, on]) => on).map(([c]) => c);
    text.push(`  CNI ADD ${String(i + 1).padStart(2)} ${p.type.padEnd(10)} CNI_NETNS=<state dir>/netns CNI_IFNAME=eth0${i > 0 ? ' prevResult=<result of ' + n.list.plugins[i - 1]!.type + '>' : ''}${caps.includes('portMappings') && req.ports.length ? ` runtimeConfig.portMappings=${JSON.stringify(req.ports)}` : ''}`);
  });
  text.push(`  at delete: CNI DEL of the same plugins, last first (${[...n.list.plugins].reverse().map((p) => p.type).join(', ')}), with the ADD result as prevResult; then the pin goes`);
  return { spec, text, json: { mode: req.mode, network: n.name, file: n.file ?? null, plugins: n.list.plugins.map((p) => p.type), ports: req.ports } };
}
