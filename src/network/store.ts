// Named networks: CNI configuration lists. tsrun's own live in /etc/tsrun/net.d (TSRUN_NETWORK_DIR),
// which `tsrun network create|rm` write; the system's CNI directory (/etc/cni/net.d, or NETCONFPATH
// as cnitool reads it) is read too, so podman's networks can be used by name. A network named in
// both is tsrun's. The default network, `tsrun`, needs no file: it is built in unless a file
// defines a network of that name.
import { closeSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, TsrunError } from '../errors.js';
import { NETWORK_NAME, parseNetConfList } from './cni/conflist.js';
import type { NetConfList } from './cni/types.js';
import { freeSubnet, gatewayOf, overlaps, parseSubnet, subnetsOf, subnetString, type Subnet } from './subnet.js';

import { DEFAULT_NETWORK } from './options.js';

export { DEFAULT_NETWORK };
export const DEFAULT_BRIDGE = 'tsrun0';
/** host-local's own default, where its leases live (one directory per network). */
export const HOST_LOCAL_DATA_DIR = '/var/lib/cni/networks';

export interface NetworkDirs {
  /** tsrun's networks: created and removed by `tsrun network`. */
  own: string;
  /** Read only: the system's CNI configuration directories. */
  system: string[];
}

export function networkDirs(env: NodeJS.ProcessEnv = process.env): NetworkDirs {
  return {
    own: env.TSRUN_NETWORK_DIR || '/etc/tsrun/net.d',
    system: (env.NETCONFPATH || '/etc/cni/net.d').split(':').filter(Boolean),
  };
}

export interface StoredNetwork {
  name: string;
  /** tsrun's own file, a system CNI file, or built in (the default network, no file). */
  source: 'tsrun' | 'system' | 'builtin';
  file?: string;
  list: NetConfList;
}

export interface NetworkListing {
  networks: StoredNetwork[];
  /** Files that could not be read as a network, with why (`network ls` shows them). */
  invalid: { file: string; problem: string }[];
}

/** The list tsrun writes for a bridge network: podman's plugins, with the firewall's backend fixed. */
export function bridgeConfList(name: string, bridge: string, subnet: Subnet): NetConfList {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge', bridge, isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: 'host-local', routes: [{ dst: '0.0.0.0/0' }], ranges: [[{ subnet: subnetString(subnet), gateway: gatewayOf(subnet) }]] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
      // iptables, never firewalld over D-Bus, which would change the host's firewall wherever tsrun runs.
      { type: 'firewall', backend: 'iptables' },
    ],
  };
}

export function defaultNetwork(): StoredNetwork {
  return { name: DEFAULT_NETWORK, source: 'builtin', list: bridgeConfList(DEFAULT_NETWORK, DEFAULT_BRIDGE, parseSubnet('10.89.0.0/24')) };
}

function filesOf(dir: string): string[] {
  try {
    return readdirSync(dir).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort().map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export function listNetworks(dirs: NetworkDirs = networkDirs()): NetworkListing {
  const networks: StoredNetwork[] = [];
  const invalid: NetworkListing['invalid'] = [];
  const seen = new Set<string>();
  const read = (dir: string, source: 'tsrun' | 'system'): void => {
    for (const file of filesOf(dir)) {
      let list: NetConfList;
      try {
        list = parseNetConfList(readFileSync(file, 'utf8'), file);
      } catch (err) {
        invalid.push({ file, problem: (err as Error).message });
        continue;
      }
      // As libcni: the first file (in name order) of a name wins.
      if (seen.has(list.name)) continue;
      seen.add(list.name);
      networks.push({ name: list.name, source, file, list });
    }
  };
  read(dirs.own, 'tsrun');
  for (const d of dirs.system) read(d, 'system');
  if (!seen.has(DEFAULT_NETWORK)) networks.unshift(defaultNetwork());
  return { networks, invalid };
}

export function findNetwork(name: string, dirs: NetworkDirs = networkDirs()): StoredNetwork {
  const found = listNetworks(dirs).networks.find((n) => n.name === name);
  if (!found) throw new TsrunError(`no network named ${name} (tsrun network ls lists them; tsrun network create ${name} makes one)`, { field: '--network' });
  return found;
}

const bridgeOf = (n: StoredNetwork): string | undefined => {
  const b = n.list.plugins.find((p) => p.type === 'bridge')?.bridge;
  return typeof b === 'string' ? b : undefined;
};

export function createNetwork(name: string, opts: { subnet?: string } = {}, dirs: NetworkDirs = networkDirs()): StoredNetwork {
  if (!NETWORK_NAME.test(name)) throw new ConfigError('NAME', `${JSON.stringify(name)} is not a network name (letters, digits, _ . -)`);
  const { networks } = listNetworks(dirs);
  if (networks.some((n) => n.name === name)) throw new TsrunError(`network ${name} already exists`);
  const taken = networks.flatMap((n) => subnetsOf(n.list.plugins).flatMap((s) => { try { return [{ s: parseSubnet(s), n: n.name }]; } catch { return []; } }));
  let subnet: Subnet;
  if (opts.subnet) {
    subnet = parseSubnet(opts.subnet);
    const clash = taken.find((t) => overlaps(t.s, subnet));
    if (clash) throw new ConfigError('--subnet', `${opts.subnet} overlaps ${subnetString(clash.s)} of network ${clash.n}`);
  } else {
    subnet = freeSubnet(taken.map((t) => t.s));
  }
  const bridges = new Set(networks.map(bridgeOf));
  let index = 1;
  while (bridges.has(`tsrun${index}`)) index++;
  const list = bridgeConfList(name, `tsrun${index}`, subnet);
  mkdirSync(dirs.own, { recursive: true, mode: 0o755 });
  const file = join(dirs.own, `${name}.conflist`);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new TsrunError(`network ${name} already exists (${file})`);
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(list, null, 2) + '\n');
  } catch (err) {
    closeSync(fd);
    rmSync(file, { force: true });
    throw err;
  }
  closeSync(fd);
  return { name, source: 'tsrun', file, list };
}

/**
 * Removes one of tsrun's networks. `inUse` lists the containers attached to it: refused while any
 * is. Its host-local lease directory goes too when it holds no lease (only host-local's own files).
 */
export function removeNetwork(name: string, inUse: readonly string[], dirs: NetworkDirs = networkDirs()): void {
  const n = findNetwork(name, dirs);
  if (n.source === 'builtin') throw new TsrunError(`network ${name} is built in: there is nothing to remove`);
  if (n.source === 'system') throw new TsrunError(`network ${name} is defined by ${n.file}, not by tsrun: remove that file yourself`);
  if (inUse.length > 0) throw new TsrunError(`network ${name} is used by container${inUse.length > 1 ? 's' : ''} ${inUse.join(', ')}: delete ${inUse.length > 1 ? 'them' : 'it'} first`);
  unlinkSync(n.file!);
  const leases = join(HOST_LOCAL_DATA_DIR, name);
  try {
    if (readdirSync(leases).every((f) => f === 'lock' || f.startsWith('last_reserved_ip'))) rmSync(leases, { recursive: true, force: true });
  } catch { /* no lease directory */ }
}
