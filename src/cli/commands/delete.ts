// tsrun delete [--force] ID
import { existsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { NETWORK_FILE } from '../../network/record.js';
import type { CommandModule } from '../command.js';
import { cliWarner } from '../log.js';
import { StateStore } from '../../state/store.js';

const note = (m: string): void => void writeSync(2, `tsrun: ${m}\n`);

const command: CommandModule<{ id: string; force: boolean }> = {
  command: 'delete',
  describe: 'remove a stopped container (its cgroup and state; an upper layer kept with --keep-upper stays, and its path is printed); --force kills it first',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: { force: { type: 'boolean', short: 'f', default: false, describe: 'kill a created or running container first' } },
  // A container whose cgroup is a systemd scope is deleted through the systemd driver (a D-Bus client),
  // which the startup snapshot leaves out; callers need not repeat --systemd-cgroup (podman does not).
  // So is one on a CNI network (the plugins' DEL).
  needsFullBundle: (args) => args.systemdCgroup || madeBySystemd(args.root, args.id) || onNetwork(args.root, args.id),
  async handler(args) {
    const { deleteContainer } = await import('../../container/delete.js');
    await deleteContainer(args.root, args.id, args.force, cliWarner(args), note);
    return 0;
  },
};

/** The record names a systemd scope; false for anything unreadable (the handler says what is wrong). */
function madeBySystemd(root: string, id: string): boolean {
  try {
    return new StateStore(root).read(id).cgroupSystemdUnit !== undefined;
  } catch {
    return false;
  }
}

/** It is on a CNI network (network.json in its state dir): DEL runs from the full bundle, which has the CNI code. */
function onNetwork(root: string, id: string): boolean {
  try {
    return existsSync(join(new StateStore(root).dir(id), NETWORK_FILE));
  } catch {
    return false;
  }
}

export default command;
