// `tsrun network create|ls|inspect|rm|check`: named CNI networks (src/network/store.ts). Parsing and
// printing only.
import type { CommandModule } from '../command.js';

const createCmd: CommandModule<{ name: string; subnet?: string }> = {
  command: 'create',
  describe: 'make a bridge network (bridge + host-local, portmap, firewall plugins) in tsrun\'s network directory',
  epilog: 'Networks are CNI configuration lists: tsrun\'s in /etc/tsrun/net.d ($TSRUN_NETWORK_DIR), the system\'s in /etc/cni/net.d ($NETCONFPATH) are read too. The network "tsrun" (bridge tsrun0, 10.89.0.0/24) exists without a file.',
  positionals: [{ name: 'name', describe: 'network name (letters, digits, _ . -)', required: true }],
  options: { subnet: { type: 'string', describe: 'IPv4 subnet, e.g. 10.89.5.0/24 (default: the next free /24 of 10.89.0.0/16)' } },
  handler: async (args) => {
    const { createNetwork } = await import('../../network/store.js');
    const n = createNetwork(args.name, args.subnet ? { subnet: args.subnet } : {});
    process.stdout.write(`${n.name}\t${n.file}\n`);
    return 0;
  },
};

const lsCmd: CommandModule<{ format: string }> = {
  command: 'ls',
  describe: 'list the networks: tsrun\'s, the system\'s CNI ones, and the built-in default',
  options: { format: { type: 'string', short: 'f', default: 'table', choices: ['table', 'json'], describe: 'output format' } },
  handler: async (args) => {
    const { listNetworks } = await import('../../network/store.js');
    const { subnetsOf } = await import('../../network/subnet.js');
    const { networks, invalid } = listNetworks();
    if (args.format === 'json') {
      process.stdout.write(JSON.stringify({ networks: networks.map((n) => ({ name: n.name, source: n.source, file: n.file ?? null, plugins: n.list.plugins.map((p) => p.type), subnets: subnetsOf(n.list.plugins) })), invalid }, null, 2) + '\n');
      return 0;
    }
    const rows = [['NAME', 'SOURCE', 'PLUGINS', 'SUBNET', 'FILE'], ...networks.map((n) => [
      n.name, n.source, n.list.plugins.map((p) => p.type).join(','), subnetsOf(n.list.plugins).join(',') || '-', n.file ?? '(built in)',
    ])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    process.stdout.write(rows.map((r) => r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd() + '\n').join(''));
    for (const bad of invalid) process.stderr.write(`tsrun: warning: ${bad.file}: not a network: ${bad.problem}\n`);
    return 0;
  },
};

const inspectCmd: CommandModule<{ name: string }> = {
  command: 'inspect',
  describe: 'print a network\'s configuration list (what tsrun gives its plugins) and where it comes from',
  positionals: [{ name: 'name', describe: 'network name', required: true }],
  handler: async (args) => {
    const { findNetwork } = await import('../../network/store.js');
    const n = findNetwork(args.name);
    process.stdout.write(JSON.stringify({ name: n.name, source: n.source, file: n.file ?? null, config: n.list }, null, 2) + '\n');
    return 0;
  },
};

const rmCmd: CommandModule<{ name: string }> = {
  command: 'rm',
  describe: 'remove one of tsrun\'s networks (refused while a container is attached to it)',
  positionals: [{ name: 'name', describe: 'network name', required: true }],
  handler: async (args) => {
    const { removeNetwork } = await import('../../network/store.js');
    const { containersOnNetwork } = await import('../../network/usage.js');
    removeNetwork(args.name, containersOnNetwork(args.root, args.name));
    return 0;
  },
};

const checkCmd: CommandModule<{ id: string }> = {
  command: 'check',
  describe: 'CNI CHECK of a container\'s network: each plugin verifies that what it made (interface, address, rules) is still there',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  handler: async (args) => {
    const { checkContainerNetwork } = await import('../../network/container-network.js');
    const outcome = await checkContainerNetwork(args.root, args.id);
    process.stdout.write(`${args.id}: ${outcome === 'checked' ? 'every plugin checked its part' : 'skipped (the network\'s cniVersion has no CHECK, or the list disables it)'}\n`);
    return 0;
  },
};

const command: CommandModule = {
  command: 'network',
  describe: 'manage CNI networks: create, ls, inspect, rm, check',
  subcommands: [createCmd, lsCmd, inspectCmd, rmCmd, checkCmd],
  handler: async () => 0,
};

export default command;
