// tsrun delete [--force] ID
import { writeSync } from 'node:fs';
import type { CommandModule } from '../command.js';
import { cliWarner } from '../log.js';

const note = (m: string): void => void writeSync(2, `tsrun: ${m}\n`);

const command: CommandModule<{ id: string; force: boolean }> = {
  command: 'delete',
  describe: 'remove a stopped container (its cgroup and state; an upper layer kept with --keep-upper stays, and its path is printed); --force kills it first',
  positionals: [{ name: 'id', describe: 'container id', required: true }],
  options: { force: { type: 'boolean', short: 'f', default: false, describe: 'kill a created or running container first' } },
  async handler(args) {
    const { deleteContainer } = await import('../../container/delete.js');
    await deleteContainer(args.root, args.id, args.force, cliWarner(args), note);
    return 0;
  },
};

export default command;
